"""Every generated message and enum of lightspeed.orchestrator.v1 in one namespace.

``from lightspeed_orchestrator import pb`` then ``pb.PipelineSpec``, ``pb.EnqueueBatchRequest``,
``pb.BATCH_STATE_DEAD_LETTERED`` ... (the modules themselves are
``lightspeed.orchestrator.v1.*_pb2``).
"""

from lightspeed.orchestrator.v1.batch_pb2 import *  # noqa: F401,F403
from lightspeed.orchestrator.v1.cluster_config_pb2 import *  # noqa: F401,F403
from lightspeed.orchestrator.v1.error_reason_pb2 import *  # noqa: F401,F403
from lightspeed.orchestrator.v1.event_pb2 import *  # noqa: F401,F403
from lightspeed.orchestrator.v1.operator_pb2 import *  # noqa: F401,F403
from lightspeed.orchestrator.v1.orchestrator_service_pb2 import *  # noqa: F401,F403
from lightspeed.orchestrator.v1.pipeline_pb2 import *  # noqa: F401,F403
from lightspeed.orchestrator.v1.server_config_pb2 import *  # noqa: F401,F403
