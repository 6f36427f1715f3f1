"""``openspaces hooks``: the URLs that are told the board news (Standard Webhooks)."""

from __future__ import annotations

import click

from app.cli.common import fail_on_service_error, pass_app


@click.group("hooks")
def hooks() -> None:
    """Webhooks: URLs that get a signed message for every settled change on the board."""


@hooks.command("add")
@click.argument("url")
@click.option(
    "--events",
    default="",
    metavar="TYPE,...",
    help="Only these message types, comma-separated: session.posted, session.titled, "
    "session.moved, session.removed [default: all].",
)
@pass_app
@fail_on_service_error
def hooks_add(app, url: str, events: str) -> None:
    """Add a hook that URL gets board news at. Its signing secret is printed on the last line.

    The secret (``whsec_...``, Standard Webhooks) is stored as it is, since every delivery is
    signed with it: the receiver checks each message's ``webhook-signature`` with it.
    """
    from app.extensions import db as database
    from app.services.webhooks import add_hook, parse_events

    with app.app_context():
        hook = add_hook(url=url, events=parse_events(events))
        hook_id, secret = hook.id, hook.secret
        database.session.commit()
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
            f"{state.hook_id}\t{state.url}\t{state.events or 'all'}\t"
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
