"""Imports every package's tables so the metadata is complete (Alembic, tests)."""

from omniretail.auth import models as _auth
from omniretail.catalog import models as _catalog
from omniretail.channels import models as _channels
from omniretail.channels.sync import models as _channel_sync
from omniretail.customers import models as _customers
from omniretail.inventory import models as _inventory
from omniretail.inventory import ops_models as _inventory_ops
from omniretail.locations import capacity as _location_capacity
from omniretail.locations import models as _locations
from omniretail.notifications import models as _notifications
from omniretail.orders import models as _orders
from omniretail.orders import returns_models as _returns
from omniretail.platform import background as _background
from omniretail.platform import external_refs as _external_refs
from omniretail.platform import idempotency as _idempotency
from omniretail.platform import outbox as _outbox
from omniretail.platform import scheduler as _scheduler
from omniretail.platform.models import Base
from omniretail.pos import models as _pos
from omniretail.pricing import models as _pricing

metadata = Base.metadata
