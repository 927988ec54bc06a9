"""Network of one environment: a VPC whose private subnets reach S3 and DynamoDB through
gateway endpoints, so the function needs no NAT; egress to the internet is an optional dial."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from platform_core.component import PlatformComponent
from platform_core.config import EgressMode
from platform_core.errors import ConfigError

__all__ = ["Network", "NetworkArgs", "SubnetPlan", "plan_subnets"]

# Subnets are carved as 16 equal blocks of the VPC CIDR (a /16 gives /20s of 4,091 addresses).
_SUBNET_PREFIX_DELTA = 4
# NAT instance: the smallest Graviton instance, Amazon Linux 2023 (arm64) from AWS's public
# SSM parameter so the AMI id is never hard-coded per region.
NAT_INSTANCE_TYPE = "t4g.nano"
NAT_INSTANCE_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
NAT_INSTANCE_USER_DATA = """#!/bin/bash
set -euo pipefail
dnf install -y iptables-services
sysctl -w net.ipv4.ip_forward=1
echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-nat.conf
iface=$(ip -o -4 route show to default | awk '{print $5}')
iptables -t nat -A POSTROUTING -o "$iface" -j MASQUERADE
iptables -F FORWARD
service iptables save
systemctl enable --now iptables
"""


@dataclass(frozen=True)
class SubnetPlan:
    """One subnet: its index within its tier, CIDR, zone and whether it is public."""

    index: int
    cidr: str
    availability_zone: str
    public: bool


def plan_subnets(
    vpc_cidr: ipaddress.IPv4Network, zones: Sequence[str], egress_mode: EgressMode
) -> list[SubnetPlan]:
    """Private subnets take the first blocks, one per zone; public ones (NAT only) follow."""
    blocks = list(vpc_cidr.subnets(prefixlen_diff=_SUBNET_PREFIX_DELTA))
    plans = [SubnetPlan(i, str(blocks[i]), zone, public=False) for i, zone in enumerate(zones)]
    if egress_mode is not EgressMode.NONE:
        offset = len(zones)
        plans += [
            SubnetPlan(i, str(blocks[offset + i]), zone, public=True)
            for i, zone in enumerate(zones)
        ]
    return plans


@dataclass(frozen=True)
class NetworkArgs:
    name: str
    region: str
    vpc_cidr: ipaddress.IPv4Network
    availability_zone_count: int
    egress_mode: EgressMode
    xray_endpoint: bool
    #: The database's port, where there is one: the function may reach it, and only it may;
    #: without NAT the function also gets Secrets Manager (its credentials) through an endpoint.
    database_port: int | None = None


class Network(PlatformComponent):
    """VPC, private subnets in several zones, gateway endpoints, the function's security group
    (and, where there is a database, the database's)."""

    vpc: aws.ec2.Vpc
    private_subnet_ids: list[pulumi.Output[str]]
    function_security_group: aws.ec2.SecurityGroup
    database_security_group: aws.ec2.SecurityGroup | None = None

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:Network", name, opts)
        self.vpc = aws.ec2.Vpc(
            self.child_name("vpc"),
            cidr_block=str(args.vpc_cidr),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": args.name},
            opts=self.child_options(),
        )
        private_table = aws.ec2.RouteTable(
            self.child_name("private-routes"),
            vpc_id=self.vpc.id,
            tags={"Name": f"{args.name}-private"},
            opts=self.child_options(),
        )
        plans = plan_subnets(args.vpc_cidr, self._zones(args), args.egress_mode)
        self.private_subnet_ids = self._private_subnets(args, plans, private_table)
        self._gateway_endpoints(args, private_table)
        if args.database_port is None:
            self.function_security_group = self._function_security_group(args)
        else:
            database = self._database_security_group(args)
            self.function_security_group = self._function_security_group(
                args, database=(database, args.database_port)
            )
            self._database_ingress(database, args.database_port)
            self.database_security_group = database
        if args.xray_endpoint and args.egress_mode is EgressMode.NONE:
            self._xray_endpoint(args)
        if args.database_port is not None and args.egress_mode is EgressMode.NONE:
            # The function reads the database's credentials from Secrets Manager.
            self._interface_endpoint(args, "secretsmanager", "Secrets Manager")
        if args.egress_mode is not EgressMode.NONE:
            public_subnets = self._public_tier(args, [plan for plan in plans if plan.public])
            if args.egress_mode is EgressMode.NAT_GATEWAY:
                self._nat_gateway(args, public_subnets, private_table)
            else:
                self._nat_instance(args, public_subnets, private_table)
        self.register_outputs(
            {"vpc_id": self.vpc.id, "private_subnet_ids": self.private_subnet_ids}
        )

    def _subnet(self, args: NetworkArgs, plan: SubnetPlan) -> aws.ec2.Subnet:
        tier = "public" if plan.public else "private"
        return aws.ec2.Subnet(
            self.child_name(f"{tier}-subnet-{plan.index}"),
            vpc_id=self.vpc.id,
            cidr_block=plan.cidr,
            availability_zone=plan.availability_zone,
            map_public_ip_on_launch=False,
            tags={"Name": f"{args.name}-{tier}-{plan.availability_zone}"},
            opts=self.child_options(),
        )

    def _private_subnets(
        self, args: NetworkArgs, plans: Sequence[SubnetPlan], routes: aws.ec2.RouteTable
    ) -> list[pulumi.Output[str]]:
        """One private subnet per zone, each routed through the private table."""
        ids = []
        for plan in plans:
            if plan.public:
                continue
            subnet = self._subnet(args, plan)
            aws.ec2.RouteTableAssociation(
                self.child_name(f"private-subnet-{plan.index}-routes"),
                subnet_id=subnet.id,
                route_table_id=routes.id,
                opts=self.child_options(),
            )
            ids.append(subnet.id)
        return ids

    def _gateway_endpoints(self, args: NetworkArgs, routes: aws.ec2.RouteTable) -> None:
        """S3 and DynamoDB without NAT: gateway endpoints cost nothing."""
        for service in ("s3", "dynamodb"):
            aws.ec2.VpcEndpoint(
                self.child_name(f"{service}-endpoint"),
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[routes.id],
                tags={"Name": f"{args.name}-{service}"},
                opts=self.child_options(),
            )

    def _function_security_group(
        self, args: NetworkArgs, database: tuple[aws.ec2.SecurityGroup, int] | None = None
    ) -> aws.ec2.SecurityGroup:
        egress = [
            aws.ec2.SecurityGroupEgressArgs(
                description="HTTPS to AWS APIs (gateway/interface endpoints or NAT)",
                protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_blocks=["0.0.0.0/0"],
            )
        ]
        if database is not None:
            group, port = database
            egress.append(
                aws.ec2.SecurityGroupEgressArgs(
                    description="PostgreSQL to the database, inside the VPC",
                    protocol="tcp",
                    from_port=port,
                    to_port=port,
                    security_groups=[group.id],
                )
            )
        return aws.ec2.SecurityGroup(
            self.child_name("function-security-group"),
            name=f"{args.name}-function",
            # Unchanged by the database's rule: a new description would replace the group.
            description="Processor function: no ingress; HTTPS out to AWS endpoints only",
            vpc_id=self.vpc.id,
            egress=egress,
            tags={"Name": f"{args.name}-function"},
            opts=self.child_options(),
        )

    def _database_security_group(self, args: NetworkArgs) -> aws.ec2.SecurityGroup:
        """The database's own group. It and the function's name each other, so it is created
        first with no rules of its own (and no egress: a database answers, it never calls out);
        its one ingress rule follows the function's group as a separate resource."""
        return aws.ec2.SecurityGroup(
            self.child_name("database-security-group"),
            name=f"{args.name}-database",
            description="Database: PostgreSQL from the processor function only",
            vpc_id=self.vpc.id,
            tags={"Name": f"{args.name}-database"},
            opts=self.child_options(),
        )

    def _database_ingress(self, database: aws.ec2.SecurityGroup, port: int) -> None:
        aws.ec2.SecurityGroupRule(
            self.child_name("database-from-function"),
            type="ingress",
            description="PostgreSQL from the processor function",
            security_group_id=database.id,
            source_security_group_id=self.function_security_group.id,
            protocol="tcp",
            from_port=port,
            to_port=port,
            opts=self.child_options(),
        )

    def _zones(self, args: NetworkArgs) -> list[str]:
        available = aws.get_availability_zones(
            state="available", opts=pulumi.InvokeOptions(parent=self)
        ).names
        if len(available) < args.availability_zone_count:
            raise ConfigError(
                "network",
                [
                    f"platform:availabilityZoneCount = {args.availability_zone_count}: region "
                    f"{args.region} has only {len(available)} available zones"
                ],
            )
        return sorted(available)[: args.availability_zone_count]

    def _xray_endpoint(self, args: NetworkArgs) -> None:
        """Trace segments leave through the function's ENIs: without NAT they need this."""
        self._interface_endpoint(args, "xray", "X-Ray")

    def _interface_endpoint(self, args: NetworkArgs, service: str, title: str) -> None:
        """An AWS API inside the VPC (private DNS), reachable over HTTPS from the function only."""
        child = self.child_options()
        endpoint_group = aws.ec2.SecurityGroup(
            self.child_name(f"{service}-endpoint-security-group"),
            name=f"{args.name}-{service}-endpoint",
            description=f"{title} interface endpoint: HTTPS from the processor function only",
            vpc_id=self.vpc.id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="HTTPS from the processor function",
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    security_groups=[self.function_security_group.id],
                )
            ],
            tags={"Name": f"{args.name}-{service}-endpoint"},
            opts=child,
        )
        aws.ec2.VpcEndpoint(
            self.child_name(f"{service}-endpoint"),
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{args.region}.{service}",
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=self.private_subnet_ids,
            security_group_ids=[endpoint_group.id],
            tags={"Name": f"{args.name}-{service}"},
            opts=child,
        )

    def _public_tier(self, args: NetworkArgs, plans: Sequence[SubnetPlan]) -> list[aws.ec2.Subnet]:
        """Public subnets behind an internet gateway: only a NAT lives there."""
        subnets = [self._subnet(args, plan) for plan in plans]
        gateway = aws.ec2.InternetGateway(
            self.child_name("internet-gateway"),
            vpc_id=self.vpc.id,
            tags={"Name": args.name},
            opts=self.child_options(),
        )
        public_table = aws.ec2.RouteTable(
            self.child_name("public-routes"),
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags={"Name": f"{args.name}-public"},
            opts=self.child_options(),
        )
        for index, subnet in enumerate(subnets):
            aws.ec2.RouteTableAssociation(
                self.child_name(f"public-subnet-{index}-routes"),
                subnet_id=subnet.id,
                route_table_id=public_table.id,
                opts=self.child_options(),
            )
        return subnets

    def _nat_gateway(
        self,
        args: NetworkArgs,
        public_subnets: Sequence[aws.ec2.Subnet],
        private_table: aws.ec2.RouteTable,
    ) -> None:
        child = self.child_options()
        address = aws.ec2.Eip(
            self.child_name("nat-address"), domain="vpc", tags={"Name": args.name}, opts=child
        )
        gateway = aws.ec2.NatGateway(
            self.child_name("nat-gateway"),
            allocation_id=address.id,
            subnet_id=public_subnets[0].id,
            tags={"Name": args.name},
            opts=child,
        )
        self._default_route(private_table, nat_gateway_id=gateway.id)

    def _nat_instance(
        self,
        args: NetworkArgs,
        public_subnets: Sequence[aws.ec2.Subnet],
        private_table: aws.ec2.RouteTable,
    ) -> None:
        child = self.child_options()
        image = aws.ssm.get_parameter_output(
            name=NAT_INSTANCE_AMI_PARAMETER, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        group = aws.ec2.SecurityGroup(
            self.child_name("nat-instance-security-group"),
            name=f"{args.name}-nat-instance",
            description="NAT instance: any traffic from the VPC, out to the internet",
            vpc_id=self.vpc.id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="traffic to translate, from inside the VPC",
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_blocks=[str(args.vpc_cidr)],
                )
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description="translated traffic to the internet",
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_blocks=["0.0.0.0/0"],
                )
            ],
            tags={"Name": f"{args.name}-nat-instance"},
            opts=child,
        )
        instance = aws.ec2.Instance(
            self.child_name("nat-instance"),
            ami=image.value,
            instance_type=NAT_INSTANCE_TYPE,
            subnet_id=public_subnets[0].id,
            associate_public_ip_address=True,
            source_dest_check=False,
            vpc_security_group_ids=[group.id],
            user_data=NAT_INSTANCE_USER_DATA,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens="required"),
            tags={"Name": f"{args.name}-nat"},
            opts=child,
        )
        self._default_route(
            private_table, network_interface_id=instance.primary_network_interface_id
        )

    def _default_route(
        self, private_table: aws.ec2.RouteTable, **target: pulumi.Output[str]
    ) -> None:
        """Send the private subnets' internet-bound traffic to the NAT `target`."""
        aws.ec2.Route(
            self.child_name("private-default-route"),
            route_table_id=private_table.id,
            destination_cidr_block="0.0.0.0/0",
            opts=self.child_options(),
            **target,
        )
