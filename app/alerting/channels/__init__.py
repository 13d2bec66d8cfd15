"""Notification channels: one small module each, one send(), one error type. Only this package imports twilio."""
