"""Web forms. Flask-WTF adds the CSRF token to each; lengths match the database columns.

Every text field is cleaned before it is validated (``app.services.text``): one-line fields lose
controls, line breaks and invisible characters; multi-line fields keep tabs and line breaks only.
"""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from app.services.text import clean_line, clean_lines

LINE = [clean_line]
LINES = [clean_lines]


class SessionForm(FlaskForm):
    title = StringField("Session title", filters=LINE, validators=[DataRequired(), Length(max=120)])
    host = StringField(
        "Your name (host)", filters=LINE, validators=[DataRequired(), Length(max=80)]
    )
    description = TextAreaField(
        "What is it about?", filters=LINES, validators=[Optional(), Length(max=2000)]
    )
    tags = StringField(
        "Tags",
        description="Comma-separated, e.g. python, testing",
        filters=LINE,
        validators=[Length(max=300)],
    )
    contact = StringField(
        "Contact (optional)",
        description="Email, Mastodon, …",
        filters=LINE,
        validators=[Length(max=200)],
    )
    links = TextAreaField(
        "Links (optional)",
        description="One per line: slides, notes, a repo",
        filters=LINES,
        validators=[Length(max=500)],
    )


class PersonForm(FlaskForm):
    name = StringField("Your name", filters=LINE, validators=[DataRequired(), Length(max=80)])
    interests = StringField(
        "Interests",
        description="Comma-separated, e.g. rust, gardening",
        filters=LINE,
        validators=[Length(max=300)],
    )
    contact = StringField("Contact (optional)", filters=LINE, validators=[Length(max=200)])
    contact_public = BooleanField("Show my contact on my page")


class InterestForm(FlaskForm):
    """Only the CSRF token: the toggle needs no fields."""


class LoginForm(FlaskForm):
    username = StringField(
        "User name", default="admin", filters=LINE, validators=[DataRequired(), Length(max=64)]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class EventForm(FlaskForm):
    name = StringField("Event name", filters=LINE, validators=[DataRequired(), Length(max=200)])
    timezone = StringField("Timezone", filters=LINE, validators=[DataRequired(), Length(max=64)])
    base_url = StringField(
        "Base URL (the QR codes point here)",
        filters=LINE,
        validators=[DataRequired(), Length(max=300), URL(require_tld=False)],
    )
    # The event's ``plain_notes``, None (automatic), True or False (app.services.plain_notes), by
    # another name: a field named as the event's attribute would take the attribute as its choice.
    notes_search = SelectField(
        "Plain sticky notes",
        default="auto",
        choices=[
            SelectChoice("auto", "Automatic"),
            SelectChoice("on", "On: printed and plain"),
            SelectChoice("off", "Off: printed only"),
        ],
        description="Notes without a code of ours, found by their look (docs/plain-notes.md). "
        "Automatic: looked for while no printed sticky is issued, or once one was seen. "
        "The search costs a scan about as much again.",
    )

    PLAIN_NOTES = {"auto": None, "on": True, "off": False}

    def process(self, formdata=None, obj=None, data=None, **kwargs):
        """Show the event's ``plain_notes`` (None, True, False) as its choice, unless sent."""
        super().process(formdata, obj, data, **kwargs)
        if obj is not None and not self.notes_search.raw_data:
            chosen = {v: k for k, v in self.PLAIN_NOTES.items()}
            self.notes_search.data = chosen[obj.plain_notes]


class RoomForm(FlaskForm):
    name = StringField("Room name", filters=LINE, validators=[DataRequired(), Length(max=100)])
    capacity = IntegerField("Capacity", validators=[Optional(), NumberRange(min=0, max=100000)])


# Typed, not picked: a browser's date-time picker shows the 12-hour clock in some locales, beside
# slot lists in 24-hour time.
SLOT_TIME_INPUT = {
    "placeholder": "2026-09-26 14:00",
    "pattern": r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}",
    "title": "date and 24-hour time, e.g. 2026-09-26 14:00",
    "autocomplete": "off",
}


class SlotForm(FlaskForm):
    """Local times in 24-hour time: ``YYYY-MM-DD HH:MM`` (or with a ``T``)."""

    start = StringField(
        "Start",
        filters=LINE,
        validators=[DataRequired(), Length(max=16)],
        description="Date and 24-hour time, e.g. 2026-09-26 14:00",
        render_kw=SLOT_TIME_INPUT,
    )
    end = StringField(
        "End",
        filters=LINE,
        validators=[DataRequired(), Length(max=16)],
        description="e.g. 2026-09-26 14:45",
        render_kw=SLOT_TIME_INPUT | {"placeholder": "2026-09-26 14:45"},
    )


class TranscribeForm(FlaskForm):
    title = StringField(
        "Title written on the sticky",
        filters=LINE,
        validators=[DataRequired(), Length(max=120)],
    )


class ActionForm(FlaskForm):
    """A bare form for organizer buttons (hide, release, delete): the CSRF token only."""


class PrintForm(FlaskForm):
    count = IntegerField(
        "How many stickies", default=30, validators=[DataRequired(), NumberRange(min=1, max=10000)]
    )
    kind = SelectField("Kind", choices=["session", "person"])
    template = SelectField("Template", choices=[])
    paper = SelectField("Paper", choices=["a4", "letter"])


class HookForm(FlaskForm):
    """A hook to add on the news page; the service checks what a format needs (app.services.webhooks)."""

    url = StringField(
        "URL",
        filters=LINE,
        validators=[DataRequired(), Length(max=400)],
        render_kw={"inputmode": "url", "placeholder": "https://hooks.slack.com/services/…"},
    )
    format = SelectField(
        "Format",
        choices=[
            SelectChoice("standard", "Standard Webhooks (signed JSON)"),
            SelectChoice("slack", "Slack or Mattermost"),
            SelectChoice("discord", "Discord"),
            SelectChoice("matrix", "Matrix room"),
        ],
    )
    events = StringField(
        "Only these types (comma-separated; empty: all)", filters=LINE, validators=[Length(max=300)]
    )
    room = StringField("Matrix room id (starts with !)", filters=LINE, validators=[Length(max=200)])
    token = PasswordField("Matrix access token", validators=[Length(max=100)])


class AnnouncementForm(FlaskForm):
    text = TextAreaField(
        "Announcement", filters=LINES, validators=[DataRequired(), Length(max=500)]
    )
