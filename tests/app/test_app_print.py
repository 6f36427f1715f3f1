"""`openspaces print`: codes are allocated in the database and drawn by printables."""

import json

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import func, select

from app.extensions import db
from app.models import PrintBatch, Sticky
from app.services.claim_keys import claim_key


def sticky_count() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count(Sticky.id)))


def test_print_stickies_pdf_allocates_batch_and_every_qr_is_on_the_page(runner, event, tmp_path):
    out = tmp_path / "sessions.pdf"
    result = runner.invoke("print", "stickies", "--count", "6", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Batch 1: 6 session stickies (note-76, a4)" in result.output
    db.session.remove()
    batch = db.session.get(PrintBatch, 1)
    codes = {s.code for s in batch.stickies}
    assert len(codes) == 6
    assert [s.marker_id for s in batch.stickies] == list(range(9, 15))
    pdf = pypdfium2.PdfDocument(str(out))
    assert len(pdf) == 1
    image = pdf[0].render(scale=200 / 72).to_pil()
    texts = {r.text for r in zxingcpp.read_barcodes(image)}
    keys = {code: claim_key(event=batch.stickies[0].event, code=code) for code in codes}
    assert texts == {f"http://localhost:5000/s/{code}?k={keys[code]}" for code in codes}
    # Each key is also printed as text beside its QR code, for a phone that cannot scan.
    words = pdf[0].get_textpage().get_text_range().split()
    assert sorted(word for word in words if word in keys.values()) == sorted(keys.values())


def test_print_stickies_png_writes_code_named_files(runner, event, tmp_path):
    result = runner.invoke(
        "print",
        "stickies",
        "-n",
        "3",
        "--kind",
        "person",
        "--format",
        "png",
        "-o",
        str(tmp_path / "png"),
    )
    assert result.exit_code == 0, result.output
    db.session.remove()
    codes = sorted(db.session.scalars(select(Sticky.code)))
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [f"{c}.png" for c in codes]
    assert {s.kind for s in db.session.scalars(select(Sticky))} == {"person"}


def test_print_kit_png_names_follow_the_contract(runner, event, tmp_path):
    result = runner.invoke("print", "kit", "--format", "png", "-o", str(tmp_path / "kit"))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "kit").iterdir() if p.name != "poster.png")
    assert names == sorted(
        [
            "corner-tl.png",
            "corner-tr.png",
            "corner-br.png",
            "corner-bl.png",
            "room-1.png",
            "room-2.png",
            "room-3.png",
            "slot-1.png",
            "slot-2.png",
        ]
    )


def test_print_kit_pdf(runner, event, tmp_path):
    out = tmp_path / "kit.pdf"
    result = runner.invoke("print", "kit", "--paper", "letter", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Board kit for 3 rooms and 2 slots" in result.output
    assert pypdfium2.PdfDocument(str(out))[0].get_size() == (612, 792)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "count must be between 1 and 10000, not 0"),
        (["--count", "10001"], "count must be between 1 and 10000, not 10001"),
        (["--count", "2", "--template", "post-it"], "unknown template 'post-it'"),
        (["--count", "2", "--paper", "a3"], "unknown paper 'a3'"),
        (
            ["--count", "2", "--template", "card-a6", "--paper", "letter"],
            "template 'card-a6' prints on a4, not letter",
        ),
    ],
)
def test_print_bad_input_allocates_nothing(runner, event, tmp_path, args, message):
    result = runner.invoke("print", "stickies", *args, "-o", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1
    assert message in result.output
    assert sticky_count() == 0
    assert not (tmp_path / "x.pdf").exists()


def test_print_to_unwritable_path_allocates_nothing(runner, event, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke("print", "stickies", "-n", "2", "-o", str(blocker / "x.pdf"))
    assert result.exit_code == 1
    assert "cannot write" in result.output
    assert sticky_count() == 0


def test_print_without_event_says_so(runner, tmp_path):
    result = runner.invoke("print", "stickies", "-n", "2", "-o", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1
    assert "no event is loaded" in result.output


def test_reprint_batch_has_same_codes(runner, event, tmp_path):
    runner.invoke("print", "stickies", "-n", "2", "--format", "png", "-o", str(tmp_path / "a"))
    result = runner.invoke("print", "batch", "1", "--format", "png", "-o", str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        p.name for p in (tmp_path / "b").iterdir()
    )
    assert sticky_count() == 2


def test_manifest_offsets_come_from_each_batch_template(runner, event, tmp_path):
    from printables import get_template

    runner.invoke("print", "stickies", "-n", "1", "-o", str(tmp_path / "a.pdf"))
    runner.invoke(
        "print", "stickies", "-n", "1", "--template", "card-a6", "-o", str(tmp_path / "b.pdf")
    )
    runner.invoke("manifest", "-o", str(tmp_path / "m.json"))
    offsets = [
        s["marker_offset"] for s in json.loads((tmp_path / "m.json").read_text())["stickies"]
    ]
    expected = [
        [round(v, 4) for v in get_template(t).marker_offset] for t in ("note-76", "card-a6")
    ]
    assert offsets == expected


def test_manifest_outlines_come_from_each_batch_template(runner, event, tmp_path):
    runner.invoke("print", "stickies", "-n", "1", "-o", str(tmp_path / "a.pdf"))
    runner.invoke(
        "print", "stickies", "-n", "1", "--template", "card-a6", "-o", str(tmp_path / "b.pdf")
    )
    runner.invoke("manifest", "-o", str(tmp_path / "m.json"))
    stickies = json.loads((tmp_path / "m.json").read_text())["stickies"]
    assert [(s["outline"], s["marker_mm"]) for s in stickies] == [
        ([[-2.3733, -0.6667], [0.6667, -0.6667], [0.6667, 2.3733], [-2.3733, 2.3733]], 25.0),
        ([[-2.8333, -0.6667], [0.6667, -0.6667], [0.6667, 4.2667], [-2.8333, 4.2667]], 30.0),
    ]
    assert stickies[0]["qr_outline"] == [
        [-0.381, 1.3257],
        [0.499, 1.3257],
        [0.499, 2.2057],
        [-0.381, 2.2057],
    ]


def test_organizer_downloads_new_batch_kit_and_reprint(organizer_client, event):
    response = organizer_client.post(
        "/admin/print/",
        data={"count": "4", "kind": "session", "template": "label-a4", "paper": "a4"},
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert sticky_count() == 4
    kit = organizer_client.get("/admin/print/kit.pdf?paper=letter")
    assert kit.mimetype == "application/pdf"
    again = organizer_client.get("/admin/print/batch/1.pdf")
    assert again.data.startswith(b"%PDF")
    assert sticky_count() == 4
    page = organizer_client.get("/admin/print/").get_data(as_text=True)
    assert "Batch 1: 4 session stickies, label-a4 on a4" in page


def test_organizer_print_bad_count_allocates_nothing(organizer_client, event):
    response = organizer_client.post(
        "/admin/print/",
        data={"count": "0", "kind": "session", "template": "note-76", "paper": "a4"},
    )
    assert response.status_code == 400
    assert sticky_count() == 0


def test_print_pages_require_login(client, event):
    assert client.get("/admin/print/kit.pdf").status_code == 302


def test_organizer_downloads_png_zips(organizer_client, event, create_stickies):
    import io
    import zipfile

    stickies = create_stickies(2)
    kit = zipfile.ZipFile(io.BytesIO(organizer_client.get("/admin/print/kit.zip").data))
    assert {"corner-tl.png", "room-3.png", "slot-2.png"} <= set(kit.namelist())
    batch = zipfile.ZipFile(io.BytesIO(organizer_client.get("/admin/print/batch/1.zip").data))
    assert sorted(batch.namelist()) == sorted(f"{s.code}.png" for s in stickies)


def test_print_beyond_the_well_separated_marker_ids_warns(runner, event, create_stickies, tmp_path):
    create_stickies(375)  # markers 9-383
    first = runner.invoke("print", "stickies", "-n", "7", "-o", str(tmp_path / "a.pdf"))
    assert first.exit_code == 0 and "Note:" not in first.output  # up to marker 390
    second = runner.invoke("print", "stickies", "-n", "1", "-o", str(tmp_path / "b.pdf"))
    assert second.exit_code == 0
    assert "marker ids beyond 390" in second.output


def test_web_print_beyond_the_well_separated_marker_ids_warns(
    organizer_client, event, create_stickies
):
    create_stickies(382)  # markers 9-390
    page = organizer_client.get("/admin/print/").get_data(as_text=True)
    assert "marker ids beyond" not in page
    download = organizer_client.post(
        "/admin/print/", data={"count": 1, "kind": "session", "template": "note-76", "paper": "a4"}
    )
    assert download.mimetype == "application/pdf"
    page = organizer_client.get("/admin/print/").get_data(as_text=True)
    warning = (
        "This event now uses marker ids beyond 390, where two ids can differ by only 2 bits; "
        "the wall camera may confuse such stickies now and then."
    )
    # Once flashed after the download, and from then on on the page itself.
    assert page.count(warning) == 2
    assert organizer_client.get("/admin/print/").get_data(as_text=True).count(warning) == 1
