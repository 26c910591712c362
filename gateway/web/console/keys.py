"""Typed keys for what the console sub-application holds, and the session of a request."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict

from gateway.auth.console_sessions import ConsoleSessions, Session
from gateway.services.alarm_board import AlarmBoard
from gateway.services.dispatch_desk import DispatchDesk

SESSIONS = web.AppKey("console_sessions", ConsoleSessions)
BOARD = web.AppKey("console_board", AlarmBoard)
DESK = web.AppKey("console_desk", DispatchDesk)
SESSION = web.RequestKey("console_session", Session)
FORM = web.RequestKey("console_form", MultiDict)  # a POST's form, read (and its CSRF token checked) once
