"""Stand-ins for the network services Quarterdeck talks to: Twilio's REST API and an SMTP server."""
