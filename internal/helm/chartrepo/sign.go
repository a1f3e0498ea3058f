package chartrepo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ProtonMail/go-crypto/openpgp"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/provenance"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// Signing, as helm package --sign does it: <archive>.prov beside the archive,
// an OpenPGP clear-signed document naming the archive's SHA-256. The server
// serves it with the archive (GET <archive URL>.prov).

// NewSigningKey generates an OpenPGP key pair for name and email (tests and local demos).
func NewSigningKey(name, email string) (*openpgp.Entity, error) {
	e, err := openpgp.NewEntity(name, "", email, nil)
	if err != nil {
		return nil, fmt.Errorf("generate OpenPGP key %s: %w", name, err)
	}
	return e, nil
}

// PublicKeyring is the binary public keyring (as gpg --export writes it) of keys.
func PublicKeyring(keys ...*openpgp.Entity) ([]byte, error) {
	var buf bytes.Buffer
	for _, k := range keys {
		if err := k.Serialize(&buf); err != nil {
			return nil, fmt.Errorf("export public key: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// Sign writes archive+".prov", the provenance file of the chart archive signed
// with key.
func Sign(archive string, key *openpgp.Entity) error {
	data, err := os.ReadFile(archive)
	if err != nil {
		return err
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("load chart %s: %w", archive, err)
	}
	metadata, err := yaml.Marshal(ch.Metadata)
	if err != nil {
		return fmt.Errorf("chart metadata of %s: %w", archive, err)
	}
	signer := &provenance.Signatory{Entity: key}
	prov, err := signer.ClearSign(data, filepath.Base(archive), metadata)
	if err != nil {
		return fmt.Errorf("sign %s: %w", archive, err)
	}
	return os.WriteFile(archive+".prov", []byte(prov), 0o644)
}

// Reindex writes dir/index.yaml again from the archives in dir (after an
// archive was replaced).
func Reindex(dir string) error {
	idx, err := repo.IndexDirectory(dir, "")
	if err != nil {
		return fmt.Errorf("index %s: %w", dir, err)
	}
	idx.SortEntries()
	return idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644)
}
