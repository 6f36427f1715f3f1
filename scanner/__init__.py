"""Read a photo of the wall: every sticky in its room and slot, and the cells that were hidden.

Pure: OpenCV and the QR decoders, no web framework and no database. Photo coordinates are
pixels with the origin at the top-left pixel's centre, x right, y down.
"""

from scanner.annotate import annotate
from scanner.decoders import DECODERS
from scanner.errors import ScanError
from scanner.imageio import ImageHeader, check_size, load_image, read_header
from scanner.manifest import Manifest
from scanner.notes import (
    FoundNote,
    find_notes,
    fingerprint_similarity,
    ink_fingerprint,
    note_picture,
)
from scanner.params import ScanParams
from scanner.pipeline import decode_all, scan, scan_frames
from scanner.results import (
    BoardView,
    Cell,
    DecodedCode,
    ScanResult,
    SeenNote,
    SeenSticky,
    Unplaced,
)
from scanner.timing import StageTime, timings_dict
from scanner.views import NoteView, StickyView, ViewScore, correlation, cut_note_views, cut_views

__all__ = [
    "ScanParams",
    "BoardView",
    "DECODERS",
    "Cell",
    "DecodedCode",
    "FoundNote",
    "ImageHeader",
    "Manifest",
    "NoteView",
    "ScanError",
    "ScanResult",
    "SeenNote",
    "SeenSticky",
    "StageTime",
    "StickyView",
    "Unplaced",
    "ViewScore",
    "annotate",
    "check_size",
    "correlation",
    "cut_note_views",
    "cut_views",
    "decode_all",
    "find_notes",
    "fingerprint_similarity",
    "ink_fingerprint",
    "load_image",
    "note_picture",
    "read_header",
    "scan",
    "scan_frames",
    "timings_dict",
]
