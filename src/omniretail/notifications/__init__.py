"""Customer notifications: templates per locale, email and SMS senders, preferences, the delivery log."""
