"""Auto Scaling launch configurations and groups on moto, for the clone-and-swap remediations."""

from __future__ import annotations

VOLATILE = {"LaunchConfigurationName", "LaunchConfigurationARN", "CreatedTime"}


def make_lc(autoscaling, name: str, **extra) -> None:
    autoscaling.create_launch_configuration(
        LaunchConfigurationName=name,
        ImageId="ami-12c6146b",
        InstanceType="t3.micro",
        KeyName="ops-key",
        SecurityGroups=["sg-0123456789abcdef0"],
        UserData="IyEvYmluL2Jhc2gKZWNobyBoaQ==",
        IamInstanceProfile="app-profile",
        InstanceMonitoring={"Enabled": True},
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3"}}],
        **extra,
    )


def make_group(autoscaling, name: str, lc: str) -> None:
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName=lc,
        MinSize=0,
        MaxSize=2,
        DesiredCapacity=0,
        AvailabilityZones=["us-east-1a"],
        Tags=[{"Key": "app", "Value": name, "PropagateAtLaunch": True}],
    )


def lc(autoscaling, name: str) -> dict | None:
    found = autoscaling.describe_launch_configurations(LaunchConfigurationNames=[name])["LaunchConfigurations"]
    return found[0] if found else None


def settings(config: dict, *drop: str) -> dict:
    return {k: v for k, v in config.items() if k not in VOLATILE | set(drop)}


def group_lc(autoscaling, name: str) -> str:
    return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
        "LaunchConfigurationName"
    ]
