"""People for the tests (a pytest plugin): make_user creates an account with TEST_PASSWORD."""
from __future__ import annotations

from unittest import mock

import pytest
from werkzeug.security import generate_password_hash

from app.accounts import models as account_models
from app.accounts.models import User
from app.accounts.services import create_user
from app.extensions import db

TEST_PASSWORD = "correct-horse-42"


@pytest.fixture(scope="session")
def test_password_hash() -> str:
    """TEST_PASSWORD hashed the way the app hashes passwords, once per session.

    The app's hash is deliberately slow (scrypt, a quarter of a second on this machine) and the
    suite makes ~500 accounts. Each account still gets a real hash of TEST_PASSWORD, so logging in
    checks it at full cost; only the repeated computation is saved. Password changes, imports and
    the hashing tests (tests/app/accounts) go through the app's own hashing."""
    return generate_password_hash(TEST_PASSWORD)


@pytest.fixture
def make_user(app, test_password_hash):
    """Create a user with the given roles; password TEST_PASSWORD, no forced change."""
    def make(username: str, *roles: str, must_change_password: bool = False, **fields) -> User:
        hashing = account_models.generate_password_hash  # the app's, or a test's counting wrapper

        def known_hash(password: str, *args, **kwargs) -> str:
            if password == TEST_PASSWORD and not args and not kwargs:
                return test_password_hash
            return hashing(password, *args, **kwargs)

        with app.app_context(), mock.patch.object(account_models, "generate_password_hash", known_hash):
            user, _ = create_user(username, fields.pop("name", username.title()), roles or ("learner",),
                                  password=TEST_PASSWORD, must_change_password=must_change_password, **fields)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user
    return make
