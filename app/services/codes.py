"""Sticky codes, claim keys, edit secrets and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Crockford base32: no I, L, O or U, so a code typed from paper cannot be misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 6
_TYPO_MAP = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """Return a new random sticky code such as ``7KQ2XM`` (30 random bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str, *, length: int = CODE_LENGTH) -> str | None:
    """Return the canonical form of a typed code of ``length`` characters, or None if it is none.

    Lower case, hyphens, spaces and the letters Crockford maps (O→0, I/L→1) are accepted.
    """
    code = text.strip().upper().replace("-", "").replace(" ", "").translate(_TYPO_MAP)
    if len(code) != length or any(ch not in ALPHABET for ch in code):
        return None
    return code


def keyed_code(secret: str, message: str, *, length: int = CODE_LENGTH) -> str:
    """Return a code of ``length`` characters that only the holder of ``secret`` makes for a message.

    The first ``5 * length`` bits of HMAC-SHA256(secret, message), in the code alphabet: the same
    secret and message always give the same code, so a code can be printed again.
    """
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest) >> (8 * len(digest) - 5 * length)
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(length)))


def new_secret() -> str:
    """Return a new URL-safe secret (edit secrets, API tokens)."""
    return secrets.token_urlsafe(24)


def hash_secret(secret: str) -> str:
    """Hash a high-entropy secret for storage.

    The secrets are random 192-bit values, so a plain SHA-256 resists guessing; a slow password hash would
    only slow down every camera request.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str | None, stored_hash: str | None) -> bool:
    """Compare a presented secret with a stored hash in constant time."""
    if not secret or not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)
