"""A generic client that knows no CRM contract: it learns the API from the
gateway's server reflection, as grpcurl, Postman or Kreya do, builds the
messages from the descriptors it receives, and calls the customer service.
Only the reflection protocol itself is compiled in (from Debian's grpc-proto).

Usage: reflection_client.py <reflection stubs dir> <gateway address> <api key>
Exits 0 when every check holds; prints what failed otherwise.
"""
import sys


def main() -> int:
    stubs, address, key = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, stubs)
    import grpc
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from reflection_v1alpha import reflection_pb2, reflection_pb2_grpc

    channel = grpc.insecure_channel(address)
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    auth = [("authorization", "Bearer " + key)]

    def ask(**request):
        responses = list(stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(**request)]), metadata=auth, timeout=10))
        assert len(responses) == 1, responses
        return responses[0]

    services = [s.name for s in ask(list_services="").list_services_response.service]
    for wanted in ("crm.customer.v1.CustomerService", "crm.customer.v1.EventFeedService",
                   "crm.gateway.v1.ApiKeyService", "grpc.health.v1.Health"):
        assert wanted in services, (wanted, services)

    # The customer service's file and everything it imports, added to an
    # empty pool in dependency order.
    answer = ask(file_containing_symbol="crm.customer.v1.CustomerService")
    assert not answer.HasField("error_response"), answer.error_response
    protos = [descriptor_pb2.FileDescriptorProto.FromString(b)
              for b in answer.file_descriptor_response.file_descriptor_proto]
    pool = descriptor_pool.DescriptorPool()
    added = set()
    while len(added) < len(protos):
        progress = False
        for p in protos:
            if p.name not in added and all(d in added for d in p.dependency):
                pool.Add(p)
                added.add(p.name)
                progress = True
        assert progress, "missing dependencies: %s" % [p.dependency for p in protos]

    service = pool.FindServiceByName("crm.customer.v1.CustomerService")
    factory = message_factory.MessageFactory(pool)

    def call(method_name, fill):
        method = service.methods_by_name[method_name]
        request_class = factory.GetPrototype(method.input_type)
        response_class = factory.GetPrototype(method.output_type)
        rpc = channel.unary_unary(
            "/%s/%s" % (service.full_name, method.name),
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)
        request = request_class()
        fill(request)
        return rpc(request, metadata=auth, timeout=10)

    created = call("CreateCustomer", lambda r: setattr(r.customer, "email", "reflect@example.com"))
    assert created.name.startswith("customers/"), created
    page = call("ListCustomers", lambda r: setattr(r, "filter", 'email = "reflect@example.com"'))
    assert [c.name for c in page.customers] == [created.name], page

    # A file by name, through the backend that owns it.
    by_name = ask(file_by_filename="crm/customer/v1/customer.proto")
    assert not by_name.HasField("error_response"), by_name.error_response
    # Unknown symbols are an error response, not a broken stream.
    missing = ask(file_containing_symbol="crm.customer.v1.NoSuchThing")
    assert missing.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0], missing

    # Reflection needs a valid API key like every other call.
    try:
        list(stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
            metadata=[("authorization", "Bearer crm_wrong")], timeout=10))
        raise AssertionError("reflection without a valid key succeeded")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.UNAUTHENTICATED, e

    print("reflection client: ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("reflection client: FAILED:", e)
        sys.exit(1)
