"""Masking an environment dump: a working directory is not a password."""

from __future__ import annotations

import pytest

from logkit.mask import Masker


@pytest.fixture(scope="module")
def masker() -> Masker:
    return Masker.from_config({}, None)


class TestWorkingDirectories:
    @pytest.mark.parametrize(
        "text",
        [
            "env: PWD=/home/ann/app SHELL=/bin/bash",
            "OLDPWD=/srv/releases/2026-11-22 HOME=/home/ann",
            "pwd: ~/work",
            "PWD=/",
        ],
    )
    def test_a_working_directory_in_text_is_kept(self, masker, text):
        """PWD=/home/... in a dumped environment stays readable."""
        assert text == masker.mask_text(text)

    def test_a_working_directory_under_a_key_is_kept(self, masker):
        """{"PWD": "/home/ann"} in attrs is a directory, not a secret."""
        event = {"message": "env", "attrs": {"PWD": "/home/ann/app", "OLDPWD": "/tmp"}}
        assert {"PWD": "/home/ann/app", "OLDPWD": "/tmp"} == masker.mask_event(event)["attrs"]

    @pytest.mark.parametrize(
        "text",
        [
            "password=/home/ann",  # under password, even a path is masked
            "pwd=hunter2",
            'PWD="/tmp/x y"',  # a quoted value with a space is not a plain path
            "db_pwd=s3cr3t!",
        ],
    )
    def test_passwords_are_still_masked(self, masker, text):
        """Only a plain absolute path under a *pwd name is spared; the rest is masked."""
        masked = masker.mask_text(text)
        assert "[MASKED" in masked and masked != text

    def test_a_password_under_pwd_key_is_still_masked(self, masker):
        """{"pwd": "hunter2"} is a password."""
        event = {"message": "x", "attrs": {"pwd": "hunter2", "password": "/home/ann"}}
        attrs = masker.mask_event(event)["attrs"]
        assert ("hunter2" in str(attrs), "/home/ann" in str(attrs)) == (False, False)
