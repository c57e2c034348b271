"""The py_webauthn wrapper against a software authenticator (ES256, 'none' attestation)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from onshi.accounts import passkeys
from onshi.accounts.passkeys import (
    AuthenticationRejectedError,
    CloneDetectedError,
    PasskeyConfigurationError,
    RegistrationRejectedError,
    RelyingParty,
)
from tests.softauthn import SoftAuthenticator, b64url, unb64url

ORIGIN = "http://localhost:8765"
RP = RelyingParty.from_origin(ORIGIN)


def _register(auth: SoftAuthenticator) -> tuple[bytes, passkeys.NewPasskey]:
    challenge = passkeys.new_challenge()
    options = passkeys.registration_options(
        RP,
        challenge=challenge,
        user_handle=passkeys.user_handle_for("k" * 40, 7),
        user_name="person-7",
        display_name="山田 太郎",
    )
    response = auth.create(options)
    return challenge, passkeys.verify_registration(
        RP, credential=response, expected_challenge=challenge
    )


def _authenticate(
    auth: SoftAuthenticator, new: passkeys.NewPasskey, current: int, **kwargs: Any
) -> passkeys.VerifiedUse:
    challenge = passkeys.new_challenge()
    options = passkeys.authentication_options(RP, challenge=challenge)
    assertion = passkeys.parse_assertion(auth.get(options, **kwargs))
    return passkeys.verify_authentication(
        RP,
        assertion=assertion,
        expected_challenge=challenge,
        public_key=new.public_key,
        current_sign_count=current,
    )


class TestRelyingParty:
    def test_from_origin_keeps_port_and_uses_host_as_id(self) -> None:
        rp = RelyingParty.from_origin("https://portal.example.jp:8443/some/path")
        assert rp.id == "portal.example.jp"
        assert rp.origin == "https://portal.example.jp:8443"

    def test_default_port_is_not_added(self) -> None:
        assert RelyingParty.from_origin("https://onshi.example").origin == "https://onshi.example"

    @pytest.mark.parametrize(
        "origin", ["http://127.0.0.1:8000", "https://[::1]:8000", "http://onshi.example", "ftp://x"]
    )
    def test_refuses_origins_browsers_refuse(self, origin: str) -> None:
        with pytest.raises(PasskeyConfigurationError):
            RelyingParty.from_origin(origin)

    @pytest.mark.parametrize(
        ("origin", "environment", "expected"),
        [
            ("http://127.0.0.1:8000", "development", "http://localhost:8000"),
            ("http://[::1]:9000", "test", "http://localhost:9000"),
            ("https://portal.example.jp/", "production", "https://portal.example.jp"),
            ("http://127.0.0.1:8000", "production", "http://127.0.0.1:8000"),
        ],
    )
    def test_passkey_origin_maps_loopback_ip_to_localhost_outside_production(
        self, origin: str, environment: str, expected: str
    ) -> None:
        assert passkeys.passkey_origin(origin, environment) == expected

    def test_relying_party_for_the_development_default(self) -> None:
        rp = passkeys.relying_party("http://127.0.0.1:8000", "development")
        assert (rp.id, rp.origin) == ("localhost", "http://localhost:8000")


class TestOptions:
    def test_registration_options_require_resident_key_and_verification(self) -> None:
        options = passkeys.registration_options(
            RP,
            challenge=b"c" * 32,
            user_handle=b"u" * 32,
            user_name="person-1",
            display_name="Patient",
            exclude_credential_ids=[b"\x01\x02"],
        )
        assert options["rp"] == {"id": "localhost", "name": passkeys.RP_NAME}
        assert unb64url(options["challenge"]) == b"c" * 32
        assert unb64url(options["user"]["id"]) == b"u" * 32
        assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -257]
        selection = options["authenticatorSelection"]
        assert selection["residentKey"] == "required"
        assert selection["requireResidentKey"] is True
        assert selection["userVerification"] == "required"
        assert options["attestation"] == "none"
        assert options["excludeCredentials"] == [{"id": b64url(b"\x01\x02"), "type": "public-key"}]
        json.dumps(options)  # ready for the browser

    def test_authentication_options_are_for_discoverable_credentials(self) -> None:
        options = passkeys.authentication_options(RP, challenge=b"x" * 32)
        assert options["rpId"] == "localhost"
        assert options.get("allowCredentials", []) == []
        assert options["userVerification"] == "required"

    def test_user_handle_is_stable_opaque_and_per_person(self) -> None:
        one = passkeys.user_handle_for("s" * 40, 1)
        assert one == passkeys.user_handle_for("s" * 40, 1)
        assert one != passkeys.user_handle_for("s" * 40, 2)
        assert one != passkeys.user_handle_for("t" * 40, 1)
        assert len(one) == 32

    def test_challenges_are_random_and_stored_as_digests(self) -> None:
        first, second = passkeys.new_challenge(), passkeys.new_challenge()
        assert first != second
        assert len(first) == passkeys.CHALLENGE_BYTES
        assert passkeys.challenge_digest(first) != first.hex()
        assert len(passkeys.challenge_digest(first)) == 64


class TestClaimedChallenge:
    def test_reads_the_challenge_from_client_data(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        options = passkeys.registration_options(
            RP, challenge=b"q" * 32, user_handle=b"u" * 32, user_name="p", display_name="p"
        )
        response = auth.create(options)
        assert passkeys.claimed_challenge(response, registration=True) == b"q" * 32
        assert passkeys.claimed_challenge(json.dumps(response), registration=True) == b"q" * 32

    @pytest.mark.parametrize(
        "credential", ["", "[]", "{}", '{"response": {}}', '{"response": {"clientDataJSON": "!"}}']
    )
    def test_unreadable_is_a_rejection(self, credential: str) -> None:
        with pytest.raises(RegistrationRejectedError):
            passkeys.claimed_challenge(credential, registration=True)
        with pytest.raises(AuthenticationRejectedError):
            passkeys.claimed_challenge(credential, registration=False)


class TestRegistration:
    def test_round_trip(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        _challenge, new = _register(auth)
        assert new.credential_id == auth.keys[0].credential_id
        assert new.sign_count == 0
        assert new.transports == ("internal",)
        assert new.aaguid == "0e5c0f1d-7b8a-4c3b-9a1f-2e3d4c5b6a79"

    def test_wrong_challenge_is_rejected(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        options = passkeys.registration_options(
            RP, challenge=b"a" * 32, user_handle=b"u" * 32, user_name="p", display_name="p"
        )
        response = auth.create(options)
        with pytest.raises(RegistrationRejectedError) as caught:
            passkeys.verify_registration(RP, credential=response, expected_challenge=b"b" * 32)
        assert "challenge" in caught.value.reason
        assert caught.value.code == "passkey.registration_rejected"

    def test_wrong_origin_is_rejected(self) -> None:
        auth = SoftAuthenticator(origin="http://localhost:9999")
        options = passkeys.registration_options(
            RP, challenge=b"a" * 32, user_handle=b"u" * 32, user_name="p", display_name="p"
        )
        with pytest.raises(passkeys.WrongOriginError, match="origin") as refused:
            passkeys.verify_registration(
                RP, credential=auth.create(options), expected_challenge=b"a" * 32
            )
        assert refused.value.params == {"origin": RP.origin}  # the message names it

    def test_missing_user_verification_is_rejected(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN, user_verified=False)
        with pytest.raises(RegistrationRejectedError, match="verif"):
            _register(auth)

    def test_other_rp_id_is_rejected(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        options = passkeys.registration_options(
            RP, challenge=b"a" * 32, user_handle=b"u" * 32, user_name="p", display_name="p"
        )
        options["rp"]["id"] = "evil.example"
        with pytest.raises(RegistrationRejectedError, match="RP ID"):
            passkeys.verify_registration(
                RP, credential=auth.create(options), expected_challenge=b"a" * 32
            )

    @pytest.mark.parametrize(
        "credential",
        [
            "not json",
            "[]",
            "{}",
            json.dumps({"id": "x", "rawId": "x", "response": {}}),
            "x" * 70000,
        ],
    )
    def test_malformed_json_is_rejected_not_crashing(self, credential: str) -> None:
        with pytest.raises(RegistrationRejectedError):
            passkeys.verify_registration(RP, credential=credential, expected_challenge=b"a" * 32)


class TestAuthentication:
    def test_round_trip_counts_up(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        _c, new = _register(auth)
        first = _authenticate(auth, new, current=0)
        assert first.credential_id == new.credential_id
        assert first.new_sign_count == 1
        second = _authenticate(auth, new, current=first.new_sign_count)
        assert second.new_sign_count == 2

    def test_authenticators_without_a_counter_are_accepted(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN, counter_step=0)
        _c, new = _register(auth)
        assert _authenticate(auth, new, current=0).new_sign_count == 0
        assert _authenticate(auth, new, current=0).new_sign_count == 0

    @pytest.mark.parametrize(("stored", "reported"), [(5, 5), (5, 3), (5, 0)])
    def test_counter_regression_is_a_clone(self, stored: int, reported: int) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        _c, new = _register(auth)
        with pytest.raises(CloneDetectedError) as caught:
            _authenticate(auth, new, current=stored, sign_count=reported)
        assert caught.value.code == "passkey.clone_detected"
        assert isinstance(caught.value, AuthenticationRejectedError)

    def test_forged_signature_is_not_reported_as_clone(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        _c, new = _register(auth)
        other = SoftAuthenticator(origin=ORIGIN)
        _c2, _other_new = _register(other)
        challenge = passkeys.new_challenge()
        response = other.get(passkeys.authentication_options(RP, challenge=challenge))
        # Claim to be the first credential while signing with another key, counter regressed.
        response["id"] = response["rawId"] = b64url(new.credential_id)
        with pytest.raises(AuthenticationRejectedError) as caught:
            passkeys.verify_authentication(
                RP,
                assertion=passkeys.parse_assertion(response),
                expected_challenge=challenge,
                public_key=new.public_key,
                current_sign_count=10,
            )
        assert not isinstance(caught.value, CloneDetectedError)
        assert "signature" in caught.value.reason

    def test_wrong_challenge_is_rejected(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        _c, new = _register(auth)
        response = auth.get(passkeys.authentication_options(RP, challenge=b"1" * 32))
        with pytest.raises(AuthenticationRejectedError, match="challenge"):
            passkeys.verify_authentication(
                RP,
                assertion=passkeys.parse_assertion(response),
                expected_challenge=b"2" * 32,
                public_key=new.public_key,
                current_sign_count=0,
            )

    def test_user_verification_is_required(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        _c, new = _register(auth)
        auth.user_verified = False
        with pytest.raises(AuthenticationRejectedError, match="verif"):
            _authenticate(auth, new, current=0)

    def test_parse_assertion_exposes_credential_id_and_user_handle(self) -> None:
        auth = SoftAuthenticator(origin=ORIGIN)
        _c, new = _register(auth)
        response = auth.get(passkeys.authentication_options(RP, challenge=b"1" * 32))
        assertion = passkeys.parse_assertion(json.dumps(response))
        assert assertion.credential_id == new.credential_id
        assert assertion.user_handle == passkeys.user_handle_for("k" * 40, 7)
        assert passkeys.reported_sign_count(assertion) == 1

    @pytest.mark.parametrize("credential", ["", "null", '{"id": 1}', '{"id":"a","rawId":"a"}'])
    def test_malformed_assertion_is_rejected(self, credential: str) -> None:
        with pytest.raises(AuthenticationRejectedError):
            passkeys.parse_assertion(credential)
