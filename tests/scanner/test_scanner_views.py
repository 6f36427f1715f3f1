import cv2
import numpy as np
import pytest

from printables import TEMPLATES
from scanner import scan
from scanner.views import ViewScore, correlation, cut_views


def _flat_from_wall(board, placed, size):
    """Cut the sticky out of the rendered wall: its flat rendering, as printed and written on."""
    w, h = size
    corners = (placed.corners_mm * board.px_per_mm - 0.5).astype(np.float32)
    target = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    m = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    return cv2.warpPerspective(board.wall, m, (w, h), flags=cv2.INTER_AREA)


def _views_against_wall(shot):
    result = scan(shot.image, shot.board.manifest)
    views = cut_views(shot.image, shot.board.manifest, result)
    placed = {s.code: s for s in shot.board.stickies}
    return {
        v.code: correlation(
            v.image, _flat_from_wall(shot.board, placed[v.code], v.image.shape[1::-1])
        )
        for v in views
    }, views


def test_cut_views_webcam_range_matches_flat_rendering(small_shot):
    scores, views = _views_against_wall(small_shot)
    assert sorted(scores) == sorted(s.code for s in small_shot.board.stickies)
    assert min(scores.values()) >= 0.90
    assert {v.image.shape for v in views} == {(152, 152, 3)}  # 76 mm at the 2 px/mm floor


def test_cut_views_close_range_matches_flat_rendering(close_shot):
    scores, views = _views_against_wall(close_shot)
    assert sorted(scores) == sorted(s.code for s in close_shot.board.stickies)
    assert min(scores.values()) >= 0.94
    assert all(2.4 < v.score.px_per_mm < 2.7 for v in views)


def test_cut_views_other_sticky_correlates_less(close_shot):
    result = scan(close_shot.image, close_shot.board.manifest)
    views = cut_views(close_shot.image, close_shot.board.manifest, result)
    placed = {s.code: s for s in close_shot.board.stickies}
    a, b = views[0], views[1]
    own = correlation(
        a.image, _flat_from_wall(close_shot.board, placed[a.code], a.image.shape[1::-1])
    )
    other = correlation(
        a.image, _flat_from_wall(close_shot.board, placed[b.code], a.image.shape[1::-1])
    )
    assert own - other >= 0.1


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_cut_views_close_up_every_template_matches_print(close_up, template):
    photo, manifest, flat = close_up(template)
    result = scan(photo, manifest)
    assert result.board_found is False
    (view,) = cut_views(photo, manifest, result)
    t = TEMPLATES[template]
    assert view.code == "7KQ2XM"
    assert 4.3 < view.px_per_mm < 5.5
    assert view.px_per_mm == pytest.approx(view.score.px_per_mm)
    h, w = view.image.shape[:2]
    assert (w, h) == (round(t.sticky_w_mm * view.px_per_mm), round(t.sticky_h_mm * view.px_per_mm))
    assert correlation(view.image, flat) >= 0.94
    assert view.score.coverage == 1.0
    assert view.score.glare == 0.0


def test_cut_views_blurred_photo_scores_lower(close_up):
    sharp_photo, manifest, _ = close_up()
    blurred_photo, _, _ = close_up(blur=3.0)
    sharp = cut_views(sharp_photo, manifest, scan(sharp_photo, manifest))[0].score
    blurred = cut_views(blurred_photo, manifest, scan(blurred_photo, manifest))[0].score
    assert blurred.sharpness < sharp.sharpness - 0.1
    assert blurred.quality < sharp.quality


def test_cut_views_sticky_partly_out_of_frame_scores_coverage(close_up):
    photo, manifest, _ = close_up(turn_deg=0.0, tilt=0.0, shift=(-700.0, 0.0))
    (view,) = cut_views(photo, manifest, scan(photo, manifest))
    # The sticky is 0.6 * 608 px wide, centred 100 px from the left edge: 182 - 100 px cut off.
    assert view.score.coverage == pytest.approx((365 - 82) / 365, abs=0.01)
    assert view.score.quality < 8.0 * view.score.coverage


def test_cut_views_sticky_mostly_out_of_frame_gives_none(close_up):
    photo, manifest, _ = close_up(turn_deg=0.0, tilt=0.0, shift=(0.0, 620.0))
    result = scan(photo, manifest)
    assert [c.text for c in result.codes if c.via == "aruco"] == ["marker:DICT_4X4_1000:12"]
    assert cut_views(photo, manifest, result) == []


def test_cut_views_glare_is_measured(close_up):
    photo, manifest, _ = close_up(turn_deg=0.0, tilt=0.0)
    cv2.circle(photo, (760, 640), 60, (255, 255, 255), -1)
    (view,) = cut_views(photo, manifest, scan(photo, manifest))
    assert view.score.glare == pytest.approx(np.pi * 60**2 / 365**2, rel=0.1)


def test_view_score_from_dict_round_trips():
    score = ViewScore(px_per_mm=3.25, sharpness=0.5, glare=0.0, coverage=1.0)
    assert ViewScore.from_dict(score.to_dict()) == score
    assert score.quality == 2.0312


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"px_per_mm": "3", "sharpness": 0.5, "glare": 0, "coverage": 1}, "score.px_per_mm must"),
        ({"px_per_mm": 3, "sharpness": 1.5, "glare": 0, "coverage": 1}, "score.sharpness 1.5 is"),
        ({"px_per_mm": 3, "sharpness": 0.5, "glare": 0}, "score.coverage must be a number"),
    ],
)
def test_view_score_from_dict_bad_field_raises(d, message):
    with pytest.raises(ValueError, match=message):
        ViewScore.from_dict(d)


def test_cut_views_sticky_in_hidden_cell_gets_view_at_half_coverage(close_up):
    import dataclasses

    from scanner import Cell

    photo, manifest, _ = close_up(turn_deg=0.0, tilt=0.0)
    result = scan(photo, manifest)
    around = ((500.0, 300.0), (1100.0, 300.0), (1100.0, 900.0), (500.0, 900.0))
    beside = ((0.0, 0.0), (300.0, 0.0), (300.0, 1200.0), (0.0, 1200.0))
    hidden = (
        Cell("Hall A", "2026-09-26T10:00", around, hidden=True),
        Cell("Hall A", "2026-09-26T11:00", beside, hidden=True),
    )
    (view,) = cut_views(photo, manifest, dataclasses.replace(result, cells=hidden))
    assert view.score.coverage == 0.5
