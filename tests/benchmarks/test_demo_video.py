"""The demo video script finds the board at --url, and says in one line when it cannot."""

import http.server
import threading

import pytest

from benchmarks import demo_video
from benchmarks.servers import free_port


@pytest.fixture
def refusing_board():
    """Serve 401 to every request on a loopback port, as a board does for a wrong token."""

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_demo_video_without_a_board_says_so_in_one_line(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    code = demo_video.main(["--url", url, "--token", "x", "-o", str(tmp_path / "wall.avi")])
    assert code == 1
    assert capsys.readouterr().err == (
        f"demo_video: no board answers at {url}/api/manifest ([Errno 111] Connection refused); "
        "start it with `openspaces demo`, or pass the address it serves on with --url\n"
    )
    assert not (tmp_path / "wall.avi").exists()


def test_demo_video_with_a_refused_token_says_how_to_make_one(refusing_board, tmp_path, capsys):
    out = tmp_path / "wall.avi"
    code = demo_video.main(["--url", refusing_board + "/", "--token", "x", "-o", str(out)])
    assert code == 1
    assert capsys.readouterr().err == (
        f"demo_video: the board at {refusing_board}/api/manifest refused the token; make one "
        "with `openspaces token create --replace demo-cam` and pass it with --token\n"
    )
