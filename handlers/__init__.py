"""What app authors write: the six event interfaces, the App base class, and outcomes."""

from handlers.app import App, AppDefinitionError, Handler, RegisteredApp, register
from handlers.delivery import Delivery, EventPublisher
from handlers.interfaces import (
    IPostUserCreated,
    IPostUserDeleted,
    IPostUserLoggedIn,
    IPostUserLoggedOut,
    IPostUserStatusChanged,
    IPostUserUpdated,
)
from handlers.outcomes import HandlerOutcome, Reject, Retry
from handlers.retry import RetryPolicy

__all__ = [
    "App",
    "AppDefinitionError",
    "Delivery",
    "EventPublisher",
    "Handler",
    "HandlerOutcome",
    "IPostUserCreated",
    "IPostUserDeleted",
    "IPostUserLoggedIn",
    "IPostUserLoggedOut",
    "IPostUserStatusChanged",
    "IPostUserUpdated",
    "RegisteredApp",
    "Reject",
    "Retry",
    "RetryPolicy",
    "register",
]
