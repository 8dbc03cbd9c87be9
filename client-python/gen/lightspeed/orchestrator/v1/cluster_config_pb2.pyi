from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClusterConfig(_message.Message):
    __slots__ = ("name", "groups", "replication_factor", "peers")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_FACTOR_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    groups: int
    replication_factor: int
    peers: _containers.RepeatedCompositeFieldContainer[ClusterPeer]
    def __init__(self, name: _Optional[str] = ..., groups: _Optional[int] = ..., replication_factor: _Optional[int] = ..., peers: _Optional[_Iterable[_Union[ClusterPeer, _Mapping]]] = ...) -> None: ...

class ClusterPeer(_message.Message):
    __slots__ = ("id", "raft_address", "api_address")
    ID_FIELD_NUMBER: _ClassVar[int]
    RAFT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    API_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    id: str
    raft_address: str
    api_address: str
    def __init__(self, id: _Optional[str] = ..., raft_address: _Optional[str] = ..., api_address: _Optional[str] = ...) -> None: ...
