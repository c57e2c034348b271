"""Identity: insurer-side member identities, the simulated resident registry, card links."""
