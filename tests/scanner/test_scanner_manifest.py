import copy
import json

import pytest

from scanner import Manifest, ScanError

CONTRACT = {
    "event": {
        "name": "PyCon India Open Spaces",
        "slug": "pycon-india",
        "base_url": "http://localhost:5000",
    },
    "marker_dictionary": "DICT_4X4_1000",
    "corners": {"tl": 0, "tr": 1, "br": 2, "bl": 3},
    "rooms": [{"name": "Hall A", "marker_id": 4, "qr": "http://localhost:5000/rooms/1"}],
    "slots": [{"start": "2026-09-26T10:00", "end": "2026-09-26T10:45", "marker_id": 5}],
    "stickies": [
        {
            "code": "7KQ2XM",
            "kind": "session",
            "qr": "http://localhost:5000/s/7KQ2XM",
            "marker_id": 12,
            "marker_offset": [-1.18, 1.18],
            "outline": [[-2.3733, -0.6667], [0.6667, -0.6667], [0.6667, 2.3733], [-2.3733, 2.3733]],
            "marker_mm": 25.0,
        }
    ],
}


def test_manifest_from_dict_contract_example():
    m = Manifest.from_dict(CONTRACT)
    assert m.event.slug == "pycon-india"
    assert m.corners.items() == (("tl", 0), ("tr", 1), ("br", 2), ("bl", 3))
    assert m.room_names() == ("Hall A",)
    assert m.slot_names() == ("2026-09-26T10:00",)
    assert m.stickies[0].marker_offset == (-1.18, 1.18)
    assert m.stickies[0].kind == "session"
    assert m.stickies[0].outline == (
        (-2.3733, -0.6667),
        (0.6667, -0.6667),
        (0.6667, 2.3733),
        (-2.3733, 2.3733),
    )
    assert m.stickies[0].marker_mm == 25.0


def test_manifest_plain_notes_default_off_and_checked():
    assert Manifest.from_dict(CONTRACT).plain_notes is False
    assert Manifest.from_dict({**CONTRACT, "plain_notes": True}).plain_notes is True
    with pytest.raises(ScanError, match="manifest: plain_notes must be true or false, got 'yes'"):
        Manifest.from_dict({**CONTRACT, "plain_notes": "yes"})


def test_manifest_from_dict_without_outline_gives_none():
    d = _broken(**{"stickies.0.outline": ..., "stickies.0.marker_mm": ...})
    m = Manifest.from_dict(d)
    assert (m.stickies[0].outline, m.stickies[0].marker_mm) == (None, None)


def test_manifest_load_reads_file(tmp_path):
    p = tmp_path / "manifest.json"
    p.write_text(json.dumps(CONTRACT))
    assert Manifest.load(p) == Manifest.from_dict(CONTRACT)


def test_manifest_load_not_json_raises(tmp_path):
    p = tmp_path / "manifest.json"
    p.write_text("{nope")
    with pytest.raises(ScanError, match="is not JSON: Expecting property name"):
        Manifest.load(p)


def test_manifest_load_missing_file_raises(tmp_path):
    with pytest.raises(ScanError, match="cannot read manifest"):
        Manifest.load(tmp_path / "absent.json")


def _broken(**changes):
    d = copy.deepcopy(CONTRACT)
    for path, value in changes.items():
        node = d
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        last = keys[-1]
        if value is ...:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return d


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rooms": ...}, "manifest: manifest.rooms is missing"),
        ({"rooms": []}, "manifest: rooms is empty; the board needs at least one room"),
        ({"slots.0.marker_id": 4}, "manifest: marker id 4 used by both rooms[0] and slots[0]"),
        ({"marker_dictionary": "DICT_9X9_5"}, "manifest: unknown marker_dictionary 'DICT_9X9_5'"),
        (
            {"stickies.0.marker_offset": [1.0]},
            "manifest: stickies[0].marker_offset must be two finite numbers, got [1.0]",
        ),
        (
            {"stickies.0.marker_id": 1000},
            "manifest: stickies[0].marker_id 1000 is outside DICT_4X4_1000 (0..999)",
        ),
        ({"corners": {"tl": 0, "tr": 1, "br": 2}}, "manifest: corners.bl is missing"),
        ({"rooms.0.name": 7}, "manifest: rooms[0].name must be a string, got int"),
        (
            {"stickies.0.outline": [[0, 0], [1, 0], [1, 1]]},
            "manifest: stickies[0].outline must be four [x, y] corners, got [[0, 0], [1, 0], [1, 1]]",
        ),
        (
            {"stickies.0.outline": [[0, 0], [0, 1], [1, 1], [1, 0]]},
            "manifest: stickies[0].outline must run tl, tr, br, bl around a positive area",
        ),
        (
            {"stickies.0.outline": [[0, 0], [1, 0], [1, "x"], [0, 1]]},
            "manifest: stickies[0].outline[2] must be two finite numbers, got [1, 'x']",
        ),
        (
            {"stickies.0.marker_mm": 0},
            "manifest: stickies[0].marker_mm must be a positive number, got 0",
        ),
    ],
)
def test_manifest_from_dict_bad_field_raises(changes, message):
    with pytest.raises(ScanError) as exc:
        Manifest.from_dict(_broken(**changes))
    assert str(exc.value) == message


def test_manifest_from_dict_duplicate_code_raises():
    d = copy.deepcopy(CONTRACT)
    twin = dict(d["stickies"][0], marker_id=13, qr="http://localhost:5000/s/other")
    d["stickies"].append(twin)
    with pytest.raises(ScanError, match="^manifest: sticky code '7KQ2XM' appears twice$"):
        Manifest.from_dict(d)


def test_manifest_from_dict_not_an_object_raises():
    with pytest.raises(ScanError, match="^manifest: expected a JSON object, got list$"):
        Manifest.from_dict([])
