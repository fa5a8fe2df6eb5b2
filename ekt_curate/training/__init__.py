"""The student stage: SFT on verified programs (TRL), and the verifier as a reward."""
