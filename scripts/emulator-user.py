"""Signs a user in to the local AWS emulator's Cognito and prints their ID token.

For `PARLEY_MODE=aws` against the emulator, where there is no development sign-in:
creates the user (with a fixed test password) if needed, adds the given groups, and
signs in with USER_PASSWORD_AUTH. Uses boto3, which the project's venv has with moto.
Usage: python scripts/emulator-user.py EMAIL [GROUP...]  (needs AWS_ENDPOINT_URL,
COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID, as `parley bootstrap` prints them).
The console actions Parley must honour, for the aws-mode walk:
  emulator-user.py --access EMAIL      prints an access token instead of the ID token
  emulator-user.py --disable EMAIL     AdminDisableUser
  emulator-user.py --sign-out TOKEN    GlobalSignOut with that access token
"""
import os
import sys

import boto3

PASSWORD = "Parley-test-1!"


def main() -> None:
    pool, client = os.environ["COGNITO_USER_POOL_ID"], os.environ["COGNITO_CLIENT_ID"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    idp = boto3.client("cognito-idp", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region)
    args, token = sys.argv[1:], "IdToken"
    if args[0] == "--disable":
        idp.admin_disable_user(UserPoolId=pool, Username=args[1])
        return
    if args[0] == "--sign-out":
        idp.global_sign_out(AccessToken=args[1])
        return
    if args[0] == "--access":
        args, token = args[1:], "AccessToken"
    email, groups = args[0], args[1:]
    try:
        idp.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
    except idp.exceptions.UsernameExistsException:
        pass
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    for group in groups:
        try:
            idp.create_group(UserPoolId=pool, GroupName=group)
        except idp.exceptions.GroupExistsException:
            pass
        idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    auth = idp.initiate_auth(
        ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )
    print(auth["AuthenticationResult"][token])


if __name__ == "__main__":
    main()
