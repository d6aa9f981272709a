"""The configuration: YAML files -> one frozen, validated `HubConfig`, built at start-up (and on
reload) and passed in; nothing reads it from a global.

`hub.config.schema` holds the dataclasses, `hub.config.load` reads files and drop-ins,
`hub.config.transports` decides which transport each consumer and ``hub.publish()`` use,
`hub.config.validate` turns plain data into dataclasses with errors that name file and key.
All of it runs on the main thread (start-up) or the reactor (reload).
"""

from hub.config.load import DEFAULT_PATH, config_from_dict, default_state_dir, load_config
from hub.config.schema import (
    DEFAULT_STATE_DIR,
    AmqpConfig,
    BacklogConfig,
    ConsumerConfig,
    CryptoConfig,
    CurveConfig,
    CurveSocketConfig,
    HubConfig,
    ProducerConfig,
    RetryConfig,
    StatsdConfig,
    StatusConfig,
    TlsConfig,
    ZmqConfig,
)

__all__ = [
    "DEFAULT_PATH",
    "DEFAULT_STATE_DIR",
    "AmqpConfig",
    "BacklogConfig",
    "ConsumerConfig",
    "CryptoConfig",
    "CurveConfig",
    "CurveSocketConfig",
    "HubConfig",
    "ProducerConfig",
    "RetryConfig",
    "StatsdConfig",
    "StatusConfig",
    "TlsConfig",
    "ZmqConfig",
    "config_from_dict",
    "default_state_dir",
    "load_config",
]
