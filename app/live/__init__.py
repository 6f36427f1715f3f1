"""The live layer: what keeps a hall of phones current without each of them asking the database.

It sits beside the views, which import it; it imports services and models, never views.

- ``stamp``: the board's live stamp, the event's change counter (``Event.board_version``) and the
  parts that move with the clock alone; read once per half second for every phone.
- ``cache``: pages rendered once per stamp and served from memory, and answered 304 when the
  browser holds them already.
- ``parts``: what changed between two renders of the grid, part by part.
- ``stream``: one reader of the stamp per event and process, waking every open event stream.
"""
