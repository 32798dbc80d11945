"""Keys: file safety, the encrypted keystore, the narrowest signer, the on-chain backstop."""
