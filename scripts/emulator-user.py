"""Signs a user in to the local AWS emulator's Cognito and prints their ID token.

For `PARLEY_MODE=aws` against the emulator, where there is no development sign-in:
creates the user (with a fixed test password) if needed, adds the given groups, and
signs in with USER_PASSWORD_AUTH. Uses boto3, which the project's venv has with moto.
Usage: python scripts/emulator-user.py EMAIL [GROUP...]  (needs AWS_ENDPOINT_URL,
COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID, as `parley bootstrap` prints them).
"""
import os
import sys

import boto3

PASSWORD = "Parley-test-1!"


def main() -> None:
    email, groups = sys.argv[1], sys.argv[2:]
    pool, client = os.environ["COGNITO_USER_POOL_ID"], os.environ["COGNITO_CLIENT_ID"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    idp = boto3.client("cognito-idp", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region)
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
    print(auth["AuthenticationResult"]["IdToken"])


if __name__ == "__main__":
    main()
