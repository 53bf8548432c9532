"""Imports every package's tables so the metadata is complete (Alembic, tests)."""

from omniretail.auth import models as _auth  # noqa: F401
from omniretail.catalog import models as _catalog  # noqa: F401
from omniretail.channels import models as _channels  # noqa: F401
from omniretail.channels.sync import models as _channel_sync  # noqa: F401
from omniretail.customers import models as _customers  # noqa: F401
from omniretail.inventory import models as _inventory  # noqa: F401
from omniretail.inventory import ops_models as _inventory_ops  # noqa: F401
from omniretail.locations import models as _locations  # noqa: F401
from omniretail.notifications import models as _notifications  # noqa: F401
from omniretail.orders import models as _orders  # noqa: F401
from omniretail.orders import returns_models as _returns  # noqa: F401
from omniretail.platform import external_refs as _external_refs  # noqa: F401
from omniretail.platform import idempotency as _idempotency  # noqa: F401
from omniretail.platform import outbox as _outbox  # noqa: F401
from omniretail.platform import scheduler as _scheduler  # noqa: F401
from omniretail.platform.models import Base
from omniretail.pricing import models as _pricing  # noqa: F401

metadata = Base.metadata
