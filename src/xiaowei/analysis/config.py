"""All thresholds of credit analysis in one place (分析参数).

Each analysis module owns its configuration model (every field with a documented default and
its reason); :class:`AnalysisConfig` gathers them so an institution can keep one file of its
own values (``AnalysisConfig.model_validate(yaml.safe_load(...))``) and a credit file records
the configuration it was made with.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from xiaowei.analysis.channels import ChannelsConfig
from xiaowei.analysis.credit_report import CreditReportConfig
from xiaowei.analysis.financials import FinancialsConfig
from xiaowei.analysis.flows import FlowsConfig
from xiaowei.analysis.network import NetworkConfig
from xiaowei.analysis.soft import SoftConfig
from xiaowei.analysis.willingness import WillingnessConfig


class AnalysisConfig(BaseModel):
    """The configuration of every analysis, with the shipped defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    financials: FinancialsConfig = Field(default_factory=FinancialsConfig)
    credit_report: CreditReportConfig = Field(default_factory=CreditReportConfig)
    flows: FlowsConfig = Field(default_factory=FlowsConfig)
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    soft: SoftConfig = Field(default_factory=SoftConfig)
    willingness: WillingnessConfig = Field(default_factory=WillingnessConfig)
