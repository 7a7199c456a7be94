"""pix2pix generator and discriminator (paper 3.4) and their training losses."""
