"""The demo: sample dossiers (`data`), simulated debtor lines (`lines`) and the loopback network they answer on."""
