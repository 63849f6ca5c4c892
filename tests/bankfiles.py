"""Bank statements in the shapes Dutch and Belgian banks write them: camt.053/054 XML and MT940, made here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

OUR_IBAN = "NL91ABNA0417164300"
CAMT053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
CAMT054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


@dataclass
class Tx:
    """One transaction: a payer, an amount, and what they wrote."""

    amount: str
    name: str | None = None
    iban: str | None = None
    text: str | None = None  # unstructured remittance
    reference: str | None = None  # structured creditor reference
    issuer: str | None = None  # BBA (Belgian OGM), CUR (Currence betalingskenmerk), ISO (RF)
    ref: str = ""  # the bank's reference of the transaction
    sign: str = "CRDT"


@dataclass
class Entry:
    """One booked entry; several transactions make a batch booking."""

    ref: str
    booked: date
    txs: list[Tx] = field(default_factory=list)
    sign: str = "CRDT"
    status: str = "BOOK"
    reversal: bool = False
    details: bool = True  # False: a batch booked as one total, no transactions given

    @property
    def amount(self) -> Decimal:
        """The entry's total: credits less debits."""
        return sum((Decimal(t.amount) * (1 if t.sign == "CRDT" else -1) for t in self.txs), Decimal(0)).copy_abs()


def _tx_xml(tx: Tx, version: str, batch: bool) -> str:
    amount = (f"<Amt Ccy=\"EUR\">{tx.amount}</Amt><CdtDbtInd>{tx.sign}</CdtDbtInd>" if version == "08" else
              f"<AmtDtls><TxAmt><Amt Ccy=\"EUR\">{tx.amount}</Amt></TxAmt></AmtDtls>") if batch else ""
    party = ""
    if tx.name or tx.iban:
        name = (f"<Pty><Nm>{escape(tx.name or '')}</Nm></Pty>" if version == "08" else
                f"<Nm>{escape(tx.name or '')}</Nm>")
        account = f"<DbtrAcct><Id><IBAN>{tx.iban}</IBAN></Id></DbtrAcct>" if tx.iban else ""
        party = f"<RltdPties><Dbtr>{name}</Dbtr>{account}</RltdPties>"
    remittance = ""
    if tx.text or tx.reference:
        remittance = "<RmtInf>" + (f"<Ustrd>{escape(tx.text)}</Ustrd>" if tx.text else "")
        if tx.reference:
            remittance += (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>{tx.issuer or 'ISO'}"
                           f"</Issr></Tp><Ref>{escape(tx.reference)}</Ref></CdtrRefInf></Strd>")
        remittance += "</RmtInf>"
    refs = f"<Refs><AcctSvcrRef>{tx.ref}</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>" if tx.ref else ""
    return f"<TxDtls>{refs}{amount}{party}{remittance}</TxDtls>"


def camt(entries: list[Entry], *, account: str = OUR_IBAN, kind: str = "053") -> bytes:
    """A camt.053.001.02 statement (kind '053') or camt.054.001.08 notification ('054')."""
    version = "02" if kind == "053" else "08"
    body = []
    for entry in entries:
        batch = len(entry.txs) > 1
        status = f"<Sts>{entry.status}</Sts>" if version == "02" else f"<Sts><Cd>{entry.status}</Cd></Sts>"
        details = ""
        if entry.details:
            count = f"<Btch><NbOfTxs>{len(entry.txs)}</NbOfTxs></Btch>" if batch else ""
            details = "<NtryDtls>" + count + "".join(_tx_xml(t, version, batch) for t in entry.txs) + "</NtryDtls>"
        elif batch:
            details = f"<NtryDtls><Btch><NbOfTxs>{len(entry.txs)}</NbOfTxs></Btch></NtryDtls>"
        body.append(
            f"<Ntry><NtryRef>{entry.ref}</NtryRef><Amt Ccy=\"EUR\">{entry.amount:.2f}</Amt>"
            f"<CdtDbtInd>{entry.sign}</CdtDbtInd>{'<RvslInd>true</RvslInd>' if entry.reversal else ''}{status}"
            f"<BookgDt><Dt>{entry.booked.isoformat()}</Dt></BookgDt><ValDt><Dt>{entry.booked.isoformat()}</Dt>"
            f"</ValDt><AcctSvcrRef>{entry.ref}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>"
            f"<SubFmlyCd>{'BOOK' if batch else 'ESCT'}</SubFmlyCd></Fmly></Domn></BkTxCd>{details}</Ntry>")
    root, report = ("BkToCstmrStmt", "Stmt") if kind == "053" else ("BkToCstmrDbtCdtNtfctn", "Ntfctn")
    namespace = CAMT053 if kind == "053" else CAMT054
    balance = ("<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">1000.00</Amt>"
               "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>") if kind == "053" else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{namespace}"><{root}><GrpHdr>'
            f"<MsgId>STMT-20261202</MsgId><CreDtTm>2026-12-02T06:00:00</CreDtTm></GrpHdr><{report}>"
            f"<Id>STMT-1</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2026-12-02T06:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId><BIC>ABNANL2A</BIC>"
            f"</FinInstnId></Svcr></Acct>{balance}{''.join(body)}</{report}></{root}></Document>\n").encode()


def mt940(entries: list[Entry], *, account: str = OUR_IBAN, number: str = "00001") -> bytes:
    """An ING-style MT940: `:61:` per transaction, `:86:` with /EREF/, /CNTP/ and /REMI/ details."""
    lines = [":940:", ":20:P261202000000001", f":25:{account}EUR", f":28C:{number}",
             ":60F:C261201EUR1000,00"]
    for entry in entries:
        for tx in entry.txs:
            sign = "C" if tx.sign == "CRDT" else "D"
            day = entry.booked.strftime("%y%m%d")
            lines.append(f":61:{day}{entry.booked:%m%d}{sign}{tx.amount.replace('.', ',')}NTRFNONREF//{tx.ref}")
            details = "/EREF/NOTPROVIDED"
            if tx.iban or tx.name:
                details += f"//CNTP/{tx.iban or ''}/INGBNL2A/{tx.name or ''}/AMSTERDAM/"
            if tx.reference:
                details += f"/REMI/STRD/{tx.issuer or 'CUR'}/{tx.reference}/"
            elif tx.text:
                details += f"/REMI/USTD//{tx.text}/"
            lines.append(":86:" + details[:65])
            lines += [details[i:i + 65] for i in range(65, len(details), 65)]  # banks wrap at 65 characters
    lines += [":62F:C261202EUR1000,00", "-"]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")
