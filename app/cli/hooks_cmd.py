"""``openspaces hooks``: the URLs that are told the board news (Standard Webhooks)."""

from __future__ import annotations

import click

from app.cli.common import fail_on_service_error, pass_app, with_event
from app.models import HookFormat


@click.group("hooks")
def hooks() -> None:
    """Webhooks: URLs that get a signed message for every settled change on the board."""


@hooks.command("add")
@click.argument("url")
@click.option(
    "--format",
    "format_",
    type=click.Choice([f.value for f in HookFormat]),
    default=HookFormat.STANDARD.value,
    show_default=True,
    help="standard: signed JSON (Standard Webhooks); slack (also Mattermost) and discord: a "
    "short message to the channel's incoming webhook URL; matrix: a notice in a room of the "
    "homeserver at URL (with --room and --token).",
)
@click.option(
    "--events",
    default="",
    metavar="TYPE,...",
    help="Only these message types, comma-separated: session.posted, session.titled, "
    "session.moved, session.removed, session.over_capacity, session.starting, announcement "
    "[default: all].",
)
@click.option(
    "--room",
    metavar="ROOM",
    help="Matrix: the room's id, which starts with ! (in Element: room settings, Advanced).",
)
@click.option(
    "--token",
    envvar="OPENSPACES_MATRIX_TOKEN",
    metavar="TOKEN",
    help="Matrix: the access token of the account that posts (or OPENSPACES_MATRIX_TOKEN).",
)
@pass_app
@fail_on_service_error
def hooks_add(
    app, url: str, format_: str, events: str, room: str | None, token: str | None
) -> None:
    """Add a hook that URL gets board news at. A standard hook's signing secret is printed last.

    The secret (``whsec_...``, Standard Webhooks) is stored as it is, since every delivery is
    signed with it: the receiver checks each message's ``webhook-signature`` with it.
    """
    from app.extensions import db as database
    from app.services.webhooks import add_hook, parse_events

    with app.app_context():
        hook = add_hook(
            url=url,
            events=parse_events(events),
            format=HookFormat(format_),
            room=room,
            token=token,
        )
        hook_id, secret = hook.id, hook.secret
        database.session.commit()
    if format_ != HookFormat.STANDARD:
        click.echo(f"Hook {hook_id} added for {url} ({format_}).")
        return
    click.echo(f"Hook {hook_id} added for {url}. Its signing secret:", err=True)
    click.echo(secret)


@hooks.command("list")
@pass_app
def hooks_list(app) -> None:
    """List the hooks: id, URL, the types each gets, and how its deliveries went."""
    from app.services.webhooks import hook_states

    with app.app_context():
        states = hook_states()
    if not states:
        click.echo("No hooks.")
    for state in states:
        last = f"last answer {state.last_status}" if state.last_status else "no answer yet"
        if state.last_error:
            last = f"last error {state.last_error}"
        click.echo(
            f"{state.hook_id}\t{state.url}\t{state.format}\t{state.events or 'all'}\t"
            f"{state.delivered} delivered, {state.waiting} waiting, {state.dead} dead; {last}"
        )


@hooks.command("remove")
@click.argument("hook_id", metavar="ID", type=int)
@pass_app
@fail_on_service_error
def hooks_remove(app, hook_id: int) -> None:
    """Remove the hook ID; what it has not got yet is not sent."""
    from app.extensions import db as database
    from app.services.webhooks import remove_hook

    with app.app_context():
        hook = remove_hook(hook_id=hook_id)
        url = hook.url
        database.session.commit()
    click.echo(f"Hook {hook_id} for {url} removed.")


@click.command("announce")
@click.argument("text")
@pass_app
@with_event
@fail_on_service_error
def announce(app, event, text: str) -> None:
    """Announce TEXT: on the wall screen for a minute, and to every hook (chat channels, apps)."""
    from app.extensions import db as database
    from app.services.outbox import note_announcement

    note_announcement(event=event, text=text)
    database.session.commit()
    click.echo(f"Announced to {event.name}: {' '.join(text.split())}")
