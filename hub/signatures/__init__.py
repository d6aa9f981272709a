"""fedmsg's x509 message signatures: checking them on input (`hub.signatures.x509`, on the
``signatures`` thread of `hub.signatures.gate`) and putting them on what the hub publishes
(`hub.signatures.signer`, on the publishing thread)."""
