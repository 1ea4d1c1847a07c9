"""What the test tiers, bench/ and chaos/ share: fakes of the flows' ports (fakes), builders
of test data (factories) and of hostile input for property tests (hostile_bodies,
hostile_answers), the functions' environment (environment), answers fed to a stream
(streams), and real receivers on 127.0.0.1 (receivers)."""
