"""Call-backs and promises over time: the pure rules, the APScheduler service, the sweeper and the calendar feed."""
