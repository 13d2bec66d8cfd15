"""The watch list: apps, their scheduled jobs, pings and what to do when a job goes quiet."""
