//! Passwords and tokens: argon2id hashes for passwords, with verified
//! credentials remembered so that a training loop's thousands of requests
//! pay for the slow hash once; SHA-256 for random tokens (they carry 256
//! random bits, so a fast hash is enough).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Mutex;
use tracking::{Error, Result};

/// Verified (stored hash, password) pairs, by a digest of both: a changed
/// password changes the stored hash, so an entry can never outlive it, on
/// this replica or any other.
pub struct Verifier {
    verified: Mutex<HashSet<[u8; 32]>>,
    /// Slow checks at once: each takes argon2's 19 MiB and a core, so a
    /// burst of new clients (or of wrong passwords) queues instead of
    /// taking the machine; whoever waited finds the first one's answer.
    slow: tokio::sync::Semaphore,
    /// A hash to verify against for unknown users, so that a wrong
    /// username takes as long as a wrong password.
    decoy: String,
}

const SLOW_CHECKS_AT_ONCE: usize = 2;

/// Entries kept before the set is cleared (each is 32 bytes).
const MAX_REMEMBERED: usize = 10_000;

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            verified: Mutex::new(HashSet::new()),
            slow: tokio::sync::Semaphore::new(SLOW_CHECKS_AT_ONCE),
            decoy: hash_password("not a password").unwrap_or_default(),
        }
    }
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

impl Verifier {
    /// Whether `password` matches `stored` (an argon2 PHC string); `None`
    /// for an unknown user still spends the time of a check.
    pub async fn verify(&self, stored: Option<&str>, password: &str) -> bool {
        let stored_hash = stored.unwrap_or(&self.decoy).to_string();
        let key = digest(&[stored_hash.as_bytes(), password.as_bytes()]);
        let remembered = || stored.is_some() && self.verified.lock().map(|s| s.contains(&key)).unwrap_or(false);
        if remembered() {
            return true;
        }
        let Ok(_permit) = self.slow.acquire().await else { return false };
        if remembered() {
            return true;
        }
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored_hash)
                .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if ok && stored.is_some() {
            if let Ok(mut set) = self.verified.lock() {
                if set.len() >= MAX_REMEMBERED {
                    set.clear();
                }
                set.insert(key);
            }
        }
        ok && stored.is_some()
    }
}

/// An argon2id hash of `password` with a fresh salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal_cause("Hashing a password", e))
}

/// [`hash_password`] off the async threads.
pub async fn hash_password_async(password: &str) -> Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::internal_cause("Hashing a password", e))?
}

/// A new random secret with a prefix saying what it is (`mlt_` tokens,
/// `mls_` sessions), 256 bits, URL-safe.
pub fn new_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| Error::internal_cause("Making a token", e))?;
    let mut out = String::from(prefix);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    Ok(out)
}

/// How a token is stored: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_once_slowly_then_from_memory() {
        let v = Verifier::default();
        let stored = hash_password("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(v.verify(Some(&stored), "correct horse battery").await);
        assert!(v.verify(Some(&stored), "correct horse battery").await);
        assert!(!v.verify(Some(&stored), "correct horse batterY").await);
        assert!(!v.verify(None, "correct horse battery").await);
        // Another hash of the same password is not vouched for by the first.
        let other = hash_password("something else entirely").unwrap();
        assert!(!v.verify(Some(&other), "correct horse battery").await);
    }

    #[test]
    fn secrets_are_random_and_stored_hashed() {
        let (a, b) = (new_secret("mlt_").unwrap(), new_secret("mlt_").unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
