"""Runtime shared by every medpay service: settings, database, gRPC bootstrap, errors, money, telemetry."""
