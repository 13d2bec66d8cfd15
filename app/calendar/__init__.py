"""Business calendars: regions, holidays, quarter closes and business days."""
