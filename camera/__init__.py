"""The wall camera: watch the board, scan the frames that changed, post what it saw to the board.

A client of the board's JSON API (docs/contracts.md) that needs only the scanner: it imports
neither the web app nor Flask nor SQLAlchemy, so it installs and runs on the small machine beside
the webcam. `frames` reads sources and detects change, `client` talks HTTP, `spool` keeps the
scans that wait for the server, `delivery` sends them, `views` picks the sticky views worth
sending, `loop` ties them together and `cli` is the command line.
"""

from camera.client import PostAnswer, ScanClient
from camera.errors import CameraError, ServerUnreachable
from camera.frames import CHANGE_FRACTION, FrameSource, changed_fraction, thumbnail
from camera.loop import CameraLoop, StepReport, load_manifest_file
from camera.spool import Spool

__all__ = [
    "CHANGE_FRACTION",
    "CameraError",
    "CameraLoop",
    "FrameSource",
    "PostAnswer",
    "ScanClient",
    "ServerUnreachable",
    "Spool",
    "StepReport",
    "changed_fraction",
    "load_manifest_file",
    "thumbnail",
]
