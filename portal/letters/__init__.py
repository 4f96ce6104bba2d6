"""Decision letters for families (PDF in kk/ru and en) and their public verification."""
