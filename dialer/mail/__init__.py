"""E-mail: messages over SMTP and the outbox (`mailer`), and the confirmation of a payment agreement."""
