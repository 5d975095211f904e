"""A client in another language, generated from protos/ at build time, calling
the suite through the gateway the way a shop's backend written in Python would.

Usage: python_client.py <stubs dir> <gateway address> <api key>
Exits 0 when every check holds; prints what failed otherwise.
"""
import sys


def main() -> int:
    stubs, address, key = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, stubs)
    import grpc
    from crm.customer.v1 import customer_pb2
    from crm.customer.v1 import customer_service_pb2 as svc
    from crm.customer.v1 import customer_service_pb2_grpc as svc_grpc

    channel = grpc.insecure_channel(address)
    stub = svc_grpc.CustomerServiceStub(channel)
    auth = [("authorization", "Bearer " + key)]

    customer = customer_pb2.Customer(email="py@example.com", country="DE", tags=["python"])
    customer.attributes["score"].number_value = 7.5
    created = stub.CreateCustomer(
        svc.CreateCustomerRequest(customer=customer, request_id="py-1"), metadata=auth, timeout=10)
    again = stub.CreateCustomer(
        svc.CreateCustomerRequest(customer=customer, request_id="py-1"), metadata=auth, timeout=10)
    assert again.name == created.name, "idempotent create returned another customer"

    got = stub.GetCustomer(svc.GetCustomerRequest(name=created.name), metadata=auth, timeout=10)
    assert got.email == "py@example.com", got
    assert got.attributes["score"].number_value == 7.5, got

    page = stub.ListCustomers(
        svc.ListCustomersRequest(filter='tags:"python"'), metadata=auth, timeout=10)
    assert [c.name for c in page.customers] == [created.name], page

    try:
        stub.GetCustomer(svc.GetCustomerRequest(name=created.name),
                         metadata=[("authorization", "Bearer crm_wrong")], timeout=10)
        raise AssertionError("a wrong key was accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.UNAUTHENTICATED, e.code()

    try:
        stub.CreateCustomer(svc.CreateCustomerRequest(customer=customer_pb2.Customer(phone="42")),
                            metadata=auth, timeout=10)
        raise AssertionError("a bad phone was accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code()
        assert e.details().startswith("customer.phone:"), e.details()

    print("python client: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
