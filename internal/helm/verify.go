package helm

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrProvenance is wrapped by every failure of provenanceVerification: no
// provenance file, a signature by a key outside the keyring, an archive whose
// digest is not the signed one.
var ErrProvenance = errors.New("provenance verification failed")

// verifyProvenance checks that prov is a provenance file signed by a key of
// a.Keyring and naming the SHA-256 of data under the archive's file name.
func verifyProvenance(a Access, data, prov []byte, name string) error {
	v, err := a.Keyring.Verify(data, prov, name)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrProvenance, explainVerifyError(err))
	}
	if v.SignedBy == nil {
		return fmt.Errorf("%w: no signer", ErrProvenance)
	}
	return nil
}

// verifyCached verifies a cached archive with its cached provenance file.
func verifyCached(path string, a Access) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	prov, err := os.ReadFile(path + ".prov")
	if err != nil {
		return fmt.Errorf("%w: cached chart %s has no provenance file", ErrProvenance, path)
	}
	name, err := os.ReadFile(path + ".name")
	if err != nil {
		return fmt.Errorf("%w: cached chart %s has no archive name", ErrProvenance, path)
	}
	return verifyProvenance(a, data, prov, string(name))
}

// explainVerifyError words the SDK's verification errors for a status message.
func explainVerifyError(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "signature made by unknown entity"):
		return "the provenance file is signed by a key that is not in the keyring"
	case strings.Contains(msg, "sha256 sum does not match"):
		return "the archive was modified after it was signed (" + msg + ")"
	case strings.Contains(msg, "signature block not found"):
		return "the provenance file holds no signature"
	}
	return msg
}
