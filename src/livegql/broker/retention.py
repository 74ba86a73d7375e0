"""How much history a broker keeps per topic for resuming subscribers: by count and by age."""

from dataclasses import dataclass

from livegql.core.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class Retention:
    """Keep at most `count` events per topic, none older than `seconds`.

    A subscriber resuming after a position whose successors were trimmed gets `HistoryGoneError`.
    """

    count: int = 1000
    seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.count <= 0 or self.seconds <= 0:
            raise ConfigurationError("retention count and seconds must be positive")
