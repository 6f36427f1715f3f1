"""The camera's command line: ``openspaces-camera`` (or ``python -m camera``).

``openspaces scan --camera SOURCE ...`` on a machine with the whole board installed runs the same
loop through `watch()`, with the same options.
"""

from __future__ import annotations

import logging
import os

import click

from camera.errors import CameraError


def watch(
    *,
    source: str,
    every_s: float,
    post_url: str | None,
    token: str | None,
    manifest_path: str | None,
    spool_dir: str | os.PathLike[str] | None,
    heartbeat_s: float,
    confirm_scans: int,
    realtime: bool,
    max_scans: int | None,
    name: str,
    decoder: str,
) -> None:
    """Run the webcam loop in real time until the video ends, N frames were taken, or Ctrl+C.

    Scans that wait for the server go to ``spool_dir``, by default the user's cache folder.
    """
    from camera.client import ScanClient
    from camera.frames import FrameSource
    from camera.loop import CameraLoop, load_manifest_file, plural
    from camera.spool import Spool, default_spool_folder

    spool_dir = spool_dir or default_spool_folder()
    if not post_url:
        raise click.UsageError("--camera needs --post URL, the board's address")
    if not token:
        raise click.UsageError("--camera needs --token (from `openspaces token create NAME`)")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("openspaces.camera")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        loop = CameraLoop(
            source=FrameSource(source, every_s=every_s),
            client=ScanClient(base_url=post_url, token=token),
            spool=Spool(spool_dir),
            name=name,
            every_s=every_s,
            heartbeat_s=heartbeat_s,
            confirm_scans=confirm_scans,
            manifest=load_manifest_file(manifest_path) if manifest_path else None,
            decoder=decoder,
        )
        frames = loop.run(max_ticks=max_scans, realtime=realtime)
    except CameraError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        return
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    waiting = len(loop.spool.pending())
    wait = "waits" if waiting == 1 else "wait"
    click.echo(
        f"{plural(frames, 'frame')}, {loop.scans} scanned; {plural(waiting, 'scan')} {wait} "
        f"in {spool_dir}",
        err=True,
    )


SOURCE_HELP = (
    "a device index (0), a video file, or a stream URL (rtsp://..., or http://.../video for a "
    "phone's MJPEG webcam app)."
)


def _seconds(*, minimum: float, default: float) -> dict:
    return {
        "type": click.FloatRange(min=minimum),
        "default": default,
        "show_default": True,
        "metavar": "SECONDS",
    }


# The loop's options, named as `watch()` takes them: (flags, settings, help without its capital).
_LOOP_OPTIONS = (
    (
        ("--post", "post_url"),
        {"metavar": "URL"},
        "the board's address, e.g. http://localhost:5000; scans go to URL/api/scans and the "
        "manifest comes from URL/api/manifest.",
    ),
    (
        ("--token",),
        {"envvar": "OPENSPACES_TOKEN"},
        "the camera token from `openspaces token create NAME` [env OPENSPACES_TOKEN].",
    ),
    (
        ("--every", "every_s"),
        _seconds(minimum=0.1, default=5.0),
        "seconds between frames (of video time for a video file).",
    ),
    (
        ("--spool", "spool_dir"),
        {"type": click.Path(file_okay=False), "metavar": "DIR"},
        "folder for scans that wait for the server, one JSON file each [default: {spool}].",
    ),
    (
        ("--heartbeat", "heartbeat_s"),
        _seconds(minimum=1, default=60.0),
        "post at least this often, even when nothing changed.",
    ),
    (
        ("--confirm", "confirm_scans"),
        {"type": click.IntRange(min=0), "default": 2, "show_default": True, "metavar": "N"},
        "after a change, post N more scans even when nothing changed, so that a sticky taken "
        "off the wall leaves the board within seconds.",
    ),
    (
        ("--realtime",),
        {"is_flag": True},
        "with a video file, wait --every seconds between frames, as a live camera does, "
        "instead of reading the file as fast as it scans.",
    ),
    (
        ("--max-scans",),
        {"type": click.IntRange(min=1), "metavar": "N"},
        "stop after N ticks, each a frame or a wait for the camera or the manifest "
        "(default: run until stopped or the video ends).",
    ),
    (
        ("--name",),
        {"default": "camera", "show_default": True},
        "the camera's name, the prefix of its scan ids.",
    ),
)


# Where `openspaces-camera` spools by default, as its help says it.
CACHE_SPOOL = "$XDG_CACHE_HOME/openspaces/camera-spool, else ~/.cache/openspaces/camera-spool"


def loop_options(*, when: str = "", spool: str = CACHE_SPOOL):
    """Return a decorator that adds the loop's options; ``when`` opens each help ("With --camera").

    ``spool`` says in the help where scans are spooled without --spool.
    """

    def decorate(command):
        for flags, settings, text in reversed(_LOOP_OPTIONS):
            text = text.replace("{spool}", spool)
            help_text = f"{when}: {text}" if when else text[0].upper() + text[1:]
            command = click.option(*flags, help=help_text, **settings)(command)
        return command

    return decorate


def _check_decoder(ctx: click.Context, param: click.Parameter, decoder: str) -> str:
    import scanner

    if decoder not in scanner.DECODERS:
        raise click.BadParameter(f"choose one of: {', '.join(scanner.DECODERS)}")
    return decoder


decoder_option = click.option(
    "--decoder",
    default="auto",
    show_default=True,
    callback=_check_decoder,
    help="QR decoder: auto, zxing, zbar or opencv.",
)


@click.command("openspaces-camera")
@click.option(
    "--camera",
    "camera_source",
    metavar="SOURCE",
    required=True,
    help=f"What to watch: {SOURCE_HELP}",
)
@loop_options()
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False),
    help="Scan with this manifest (`openspaces manifest -o FILE`) instead of fetching the board's.",
)
@decoder_option
def main(camera_source, manifest_path, decoder, **loop) -> None:
    """Watch the wall: scan a frame every few seconds and post what changed to the board."""
    watch(source=camera_source, manifest_path=manifest_path, decoder=decoder, **loop)
