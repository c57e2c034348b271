"""J-LIS (地方公共団体情報システム機構), SIMULATED: the resident registry's 5 items and which
user-authentication certificate was issued to whom, behind :class:`JlisGateway`."""

from onshi.jlis.gateway import CertificateHolder, JlisGateway, Resident

__all__ = ["CertificateHolder", "JlisGateway", "Resident"]
