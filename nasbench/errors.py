"""Errors the library raises for bad settings: the message is in the library's terms, and `setting` names the
field at fault, so a command-line front end can add which flag to change."""
from __future__ import annotations


class SettingError(ValueError):
    """A setting (`settings.<setting>`, or the argument of that name) that cannot work as given."""

    def __init__(self, message: str, setting: str):
        super().__init__(message)
        self.setting = setting
