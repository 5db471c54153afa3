"""The SavedModel archive round-trips, and an archive that would write outside its folder is refused."""

import io
import tarfile

import pytest

from ml_platform.tweets.classifier import pack_directory, unpack_directory


def test_a_packed_folder_unpacks_to_the_same_files(tmp_path):
    source = tmp_path / "model"
    (source / "variables").mkdir(parents=True)
    (source / "saved_model.pb").write_bytes(b"graph")
    (source / "variables" / "variables.index").write_bytes(b"index")

    unpack_directory(pack_directory(source), tmp_path / "copy")

    assert (tmp_path / "copy" / "saved_model.pb").read_bytes() == b"graph"
    assert (tmp_path / "copy" / "variables" / "variables.index").read_bytes() == b"index"


def archive_with(member: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def test_a_member_escaping_the_folder_or_a_link_is_refused_and_nothing_is_written(tmp_path):
    escaping = archive_with(tarfile.TarInfo("../outside.txt"), b"x")
    link = tarfile.TarInfo("saved_model.pb")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"

    with pytest.raises(ValueError, match="leaves its folder"):
        unpack_directory(escaping, tmp_path / "a")
    with pytest.raises(ValueError, match="not a file or folder"):
        unpack_directory(archive_with(link), tmp_path / "b")
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "b").exists()
