import uuid

import pytest

from consular import crypto
from consular.keys import KeyConfigurationError, StaticKeyProvider, parse_master_keys
from consular.models import DataKey

KEY_A = b"a" * 32
KEY_B = b"b" * 32


def cipher_and_key():
    data_key, cipher = DataKey.generate()
    return data_key, cipher


def test_a_value_decrypts_where_it_was_encrypted():
    _, cipher = cipher_and_key()
    blob = cipher.encrypt("Ana María", table="t", field="given_name", row_id=1)
    assert cipher.decrypt(blob, table="t", field="given_name", row_id=1) == "Ana María"


def test_ciphertext_moved_to_another_row_fails_to_decrypt():
    _, cipher = cipher_and_key()
    blob = cipher.encrypt("P1234567", table="t", field="passport", row_id=1)
    with pytest.raises(crypto.DecryptionError):
        cipher.decrypt(blob, table="t", field="passport", row_id=2)


def test_ciphertext_moved_to_another_field_fails_to_decrypt():
    _, cipher = cipher_and_key()
    blob = cipher.encrypt("P1234567", table="t", field="passport", row_id=1)
    with pytest.raises(crypto.DecryptionError):
        cipher.decrypt(blob, table="t", field="phone", row_id=1)


def test_another_persons_key_cannot_decrypt():
    _, mine = cipher_and_key()
    _, theirs = cipher_and_key()
    blob = mine.encrypt("secret", table="t", field="f", row_id=1)
    with pytest.raises(crypto.DecryptionError):
        theirs.decrypt(blob, table="t", field="f", row_id=1)


def test_tampered_ciphertext_raises_instead_of_returning_anything():
    _, cipher = cipher_and_key()
    blob = bytearray(cipher.encrypt("secret", table="t", field="f", row_id=1))
    blob[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        cipher.decrypt(bytes(blob), table="t", field="f", row_id=1)


def test_the_same_value_encrypts_differently_each_time():
    _, cipher = cipher_and_key()
    assert cipher.encrypt("x", table="t", field="f", row_id=1) != cipher.encrypt("x", table="t", field="f", row_id=1)


def test_a_wrapped_key_needs_its_master_key_version():
    key_id = uuid.uuid4()
    version, blob = crypto.wrap_data_key(b"k" * 32, key_id=key_id, provider=StaticKeyProvider({1: KEY_A}))
    assert version == 1
    assert crypto.unwrap_data_key(blob, key_id=key_id, provider=StaticKeyProvider({1: KEY_A, 2: KEY_B})) == b"k" * 32
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_data_key(blob, key_id=key_id, provider=StaticKeyProvider({2: KEY_B}))


def test_a_wrapped_key_cannot_be_swapped_to_another_key_row():
    key_id = uuid.uuid4()
    provider = StaticKeyProvider({1: KEY_A})
    _, blob = crypto.wrap_data_key(b"k" * 32, key_id=key_id, provider=provider)
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_data_key(blob, key_id=uuid.uuid4(), provider=provider)


def test_new_keys_are_wrapped_under_the_highest_master_version():
    _, blob = crypto.wrap_data_key(b"k" * 32, key_id=uuid.uuid4(), provider=StaticKeyProvider({1: KEY_A, 3: KEY_B}))
    assert crypto.wrapped_key_version(blob) == 3


@pytest.mark.parametrize("text", ["", "1:notbase64!", "x:" + "YQ==" * 8, "1:YWJj"])
def test_malformed_master_keys_are_refused(text):
    with pytest.raises(KeyConfigurationError):
        parse_master_keys(text)


def test_blind_index_is_case_and_space_insensitive_for_emails():
    assert crypto.email_blind_index(" Alice@Example.TEST ") == crypto.email_blind_index("alice@example.test")


def test_blind_indexes_of_different_fields_differ_for_the_same_value():
    assert crypto.blind_index("x", domain="email") != crypto.blind_index("x", domain="passport")
