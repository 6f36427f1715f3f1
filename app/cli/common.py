"""Decorators the CLI commands share."""

from __future__ import annotations

import functools

import click


def command_app(ctx: click.Context):
    """Return the Flask app for the chosen instance folder, made once per command line."""
    from app import create_app
    from app.settings import SettingError

    root = ctx.find_root()
    app = root.meta.get("openspaces.app")
    if app is None:
        instance = (root.obj or {}).get("instance")
        try:
            app = create_app({"INSTANCE_PATH": instance} if instance else None)
        except SettingError as exc:
            raise click.ClickException(str(exc)) from None
        root.meta["openspaces.app"] = app
    return app


def pass_app(func):
    """Pass the Flask app for the chosen instance folder as the first argument."""

    @functools.wraps(func)
    @click.pass_context
    def wrapped(ctx: click.Context, *args, **kwargs):
        return func(command_app(ctx), *args, **kwargs)

    return wrapped


def load_manifest(ctx: click.Context, manifest_path: str | None, *, required: bool):
    """Return the scanner manifest of ``--manifest``, else of the local instance's current event.

    Without an event: a clear error when ``required``, else None.
    """
    from scanner import Manifest, ScanError

    if manifest_path:
        try:
            return Manifest.load(manifest_path)
        except ScanError as exc:
            raise click.ClickException(f"{manifest_path}: {exc}") from None
    from app.services.events import get_current_event
    from app.services.scanning import event_manifest

    with command_app(ctx).app_context():
        event = get_current_event()
        if event is not None:
            return event_manifest(event)
    if required:
        raise click.ClickException(
            "no event is loaded; run `openspaces event load FILE.toml` or pass --manifest FILE"
        )
    return None


def fail_on_service_error(func):
    """Turn a refused action into a clear one-line error and a non-zero exit, changing nothing."""

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        from app.extensions import db
        from app.services import ServiceError

        try:
            return func(*args, **kwargs)
        except ServiceError as exc:
            try:
                db.session.rollback()
            except RuntimeError:  # no app context: nothing to roll back
                pass
            raise click.ClickException(str(exc)) from None

    return wrapped


def with_event(func):
    """Run inside an app context and pass the current event; fail clearly when none is loaded."""

    @functools.wraps(func)
    def wrapped(app, *args, **kwargs):
        from app.services.events import get_current_event

        with app.app_context():
            event = get_current_event()
            if event is None:
                raise click.ClickException(
                    "no event is loaded; run `openspaces event load FILE.toml` first"
                )
            return func(app, event, *args, **kwargs)

    return wrapped
